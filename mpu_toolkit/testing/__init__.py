"""Local S3 for demos, notebooks and tests: a moto server on 127.0.0.1 (:mod:`.local`) and
a fault-injecting proxy to put in front of any S3 server (:mod:`.faults`)."""
