"""nbgrader's feedback exporter, compiling its templates once per process.

nbconvert builds a new Jinja environment for every notebook it exports, and
compiles the same templates again each time: a tenth of a second per
notebook when one process gives feedback on a whole class
(coursekit.grade).  This exporter keeps the compiled templates in memory
(Jinja's bytecode cache, keyed by each template's name and source, so an
edited template is compiled afresh).  nbgrader_config.py makes it
`GenerateFeedback.exporter_class`; everything else is nbgrader's HTMLExporter.
"""

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_cache = MemoryBytecodeCache()


class FeedbackExporter(HTMLExporter):
    """HTMLExporter whose environment reuses templates compiled earlier in this process."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _cache
        return environment
