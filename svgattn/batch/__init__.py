"""Many figures at once: every head of every layer, many inputs, several checkpoints.

:func:`plan` expands inputs (attention files, spec files, or :class:`~svgattn.data.Attention`
objects such as a model's run) and a selection of layers and heads into :class:`Job`\\ s,
one per output file named by a pattern (``figs/{stem}-{layer}-{head}.pdf``);
:func:`run` renders them on any :class:`concurrent.futures.Executor`: a local process
pool by default, or a Dask cluster (``Client(...).get_executor()``).

Workers only draw: they return the encoded figure and the parent writes it (atomically),
so a worker needs no access to the output directory, and a failure of one figure (a
poisoned input, a bad option) is reported by name while the others finish. A worker
reads an input file once and keeps it for the next figures of that file.
"""

from .cluster import connect
from .jobs import Job, Report, Source
from .planning import plan
from .running import render_job, run

__all__ = ["Job", "Report", "Source", "connect", "plan", "render_job", "run"]
