"""Upload sse_program.py as an SSE job, then read its result and download its log."""

import tempfile
from pathlib import Path

from quri_parts_oqtopus.backend import OqtopusSseBackend

program = Path(__file__).with_name("sse_program.py")
job = OqtopusSseBackend().run_sse(str(program), device_id="qulacs", name="ghz via sse")
result = job.result(wait=0.2)
print(f"SSE job {job.job_id}: {dict(result.counts)}")  # type: ignore[union-attr]
with tempfile.TemporaryDirectory() as directory:
    log = Path(job.download_log(save_dir=directory))
    print(f"log saved as {log.name} ({log.stat().st_size} bytes)")
