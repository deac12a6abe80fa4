"""The job layer: persistent queries run as tasks by workers.

* :mod:`pycql.jobs.spec`: a job as the command log (``_pycql_catalog``) holds it;
* :mod:`pycql.jobs.sink`: emissions into output records (streams, and
  relations as upserts and tombstones);
* :mod:`pycql.jobs.task`: one task, a job over some partitions of its inputs;
* :mod:`pycql.jobs.status`: what tasks report to ``_pycql_status``, and reading it;
* :mod:`pycql.jobs.worker`: the worker (``pycql worker``, or a thread of an
  embedded database) that follows the command log and runs tasks.

Nothing here imports the planner: a worker needs Python and confluent-kafka only.
"""
