"""Background CLI processes whose output is read line by line with arrival times."""

import subprocess
import threading
import time


class LineStream:
    """Starts a command and records (monotonic time, line) for each stdout line."""

    def __init__(self, args, env, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen([str(a) for a in args], env=env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.started = time.monotonic()
        self.lines = []
        self.err = b""
        self._cv = threading.Condition()
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._errt = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._errt.start()

    def _read_out(self):
        for raw in self.proc.stdout:
            with self._cv:
                self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def _read_err(self):
        self.err = self.proc.stderr.read()

    def wait_line(self, pred, timeout):
        """The first (time, line) whose line satisfies pred, or None after timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for item in self.lines:
                    if pred(item[1]):
                        return item
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._out.is_alive()):
                    return None
                self._cv.wait(min(left, 0.2))

    def wait_exit(self, timeout):
        """Exit code, or None if still running after timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._out.join(5)
        self._errt.join(5)
        return rc

    def text(self):
        with self._cv:
            return [line for _, line in self.lines]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.join(5)
        self._errt.join(5)
