"""Photo derivatives: Signal93's pipeline against a bare Pillow reference, and a worker's peak memory.

    .venv/bin/python -m bench.media

For a 12-megapixel JPEG and a 12-megapixel HEIC made here, times (best of 5) for:
- reference: open, draft (JPEG), thumbnail, save as JPEG, for the two sizes (320 and 1600 px);
- signal93: ``backend.media.images.derivatives`` (the same, plus orientation, metadata removal,
  refusal checks).
Prints both and their ratio (target <= 1.3x). Then runs derivatives of a 40-megapixel JPEG in a
fresh process and prints its peak resident memory (target <= 300 MB).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time

from PIL import Image

from backend.media import images

SIDES = (1600, 320)


def photo(width: int, height: int, fmt: str) -> bytes:
    # A gradient with detail, so the encoders have real work to do.
    image = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 40, 40), (width // 3, height // 3, width // 2, height // 2))
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=90)
    return buffer.getvalue()


def reference(data: bytes) -> None:
    for side in SIDES:
        image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            image.draft("RGB", (side, side))
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        image.convert("RGB").save(io.BytesIO(), "JPEG", quality=85, optimize=True, progressive=True)


def best_of(run, data: bytes, repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(data)
        timings.append(time.perf_counter() - start)
    return min(timings) * 1000


def peak_memory_mb(width: int, height: int) -> float:
    """Peak resident memory of a fresh process that reads a photo file and makes its derivatives
    (the photo is made beforehand, in this process: its creation is not the worker's cost)."""
    with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
        handle.write(photo(width, height, "JPEG"))
        handle.flush()
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
        code = (
            "import sys\n"
            "from backend.media import images\n"
            "data = open(sys.argv[1], 'rb').read()\n"
            "images.derivatives(data, max_pixels=50_000_000)\n"
            "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
            "print(status)\n"
        )
        out = subprocess.run([sys.executable, "-c", code, handle.name], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # VmHWM is in KiB


def main() -> None:
    for label, fmt in (("JPEG 12 MP", "JPEG"), ("HEIC 12 MP", "HEIF")):
        data = photo(4000, 3000, fmt)
        ref_ms = best_of(reference, data)
        ours_ms = best_of(images.derivatives, data)
        ratio = ours_ms / ref_ms
        print(
            f"{label}: reference {ref_ms:7.1f} ms   signal93 {ours_ms:7.1f} ms   ratio {ratio:4.2f}x  (target <= 1.3x)"
        )
    print(f"peak memory, derivatives of a 40 MP JPEG: {peak_memory_mb(7300, 5480):.0f} MB  (target <= 300 MB)")


if __name__ == "__main__":
    main()
