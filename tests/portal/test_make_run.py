"""`make run`: what the Makefile gives the web server, the worker and beat it starts with honcho."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT_BASE_URL = (
    "worker: .venv/bin/python -c \"import os, django; django.setup(); from django.conf import settings; "
    "print('PORT', os.environ['PORT'], 'LINKS', settings.PORTAL_BASE_URL)\"\n"
)


def test_the_worker_s_e_mail_links_lead_to_the_port_the_web_server_serves(tmp_path):
    """honcho gives each process a PORT of its own (web 8123, the worker, which sends the staff alerts, 8223):
    the links are built from the address the Makefile fixes for all of them, the web server's."""
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: sleep 60\n" + PRINT_BASE_URL)
    # `make run`'s own variables, with a target that starts these two processes as `run` starts its three.
    probe = tmp_path / "probe.mk"
    probe.write_text(f"probe:\n\t$(BIN)/honcho --procfile {procfile} --app-root {ROOT} start --port $(PORT)\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "PORTAL_BASE_URL"}}
    result = subprocess.run(
        ["make", "-s", "-f", "Makefile", "-f", str(probe), "probe", "PORT=8123"],
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_DATA_DIR": str(tmp_path / "data")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "PORT 8223 LINKS http://127.0.0.1:8123" in result.stdout, result.stdout + result.stderr
