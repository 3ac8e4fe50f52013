"""The Debian package: builds it with scripts/package (dpkg-buildpackage -us -uc -b, lintian
without errors) and inspects the .deb: file list, conffiles, maintainer scripts, units, man
pages. Installing it into a fresh Debian 12 root is slower: scripts/test-package.

$HOLDFAST_DEB names an already built .deb to inspect instead of building one (scripts/package
writes dist/holdfast_VERSION_ARCH.deb)."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = ("dpkg-buildpackage", "dh", "help2man", "lintian", "dpkg-deb")


@pytest.fixture(scope="module")
def deb():
    given = os.environ.get("HOLDFAST_DEB")
    if given:
        yield given
        return
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.fail("missing %s: run HOLDFAST_WITH_PACKAGE=1 scripts/install-deps"
                    % ", ".join(missing))
    out = tempfile.mkdtemp(prefix="hf-deb-")
    env = dict(os.environ, HOLDFAST_SKIP_DEPS="1", HOLDFAST_PACKAGE_OUT=out,
               DEB_BUILD_OPTIONS="nocheck")  # unit tests run in scripts/test already
    p = subprocess.run([os.path.join(ROOT, "scripts", "package")], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, (p.stdout[-6000:] + p.stderr[-6000:])
    debs = glob.glob(os.path.join(out, "holdfast_*.deb"))
    assert len(debs) == 1, debs
    yield debs[0]
    shutil.rmtree(out, ignore_errors=True)


def dpkg_deb(*args):
    return subprocess.run(["dpkg-deb"] + list(args), capture_output=True, text=True,
                          check=True, timeout=60).stdout


def control_file(deb, name):
    d = tempfile.mkdtemp(prefix="hf-ctrl-")
    try:
        subprocess.run(["dpkg-deb", "--control", deb, d], check=True, timeout=60)
        path = os.path.join(d, name)
        return open(path).read() if os.path.exists(path) else None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def files_of(deb):
    """{path: (mode string, owner)} from dpkg-deb -c."""
    out = {}
    for line in dpkg_deb("-c", deb).splitlines():
        parts = line.split(None, 5)
        path = parts[5].split(" -> ")[0]
        out[path.lstrip(".")] = (parts[0], parts[1])
    return out


def test_file_list(deb):
    files = files_of(deb)
    want = [
        "/usr/bin/holdfast", "/usr/bin/holdfastctl",
        "/lib/systemd/system/holdfast.service", "/lib/systemd/system/holdfast-control.socket",
        "/lib/systemd/system/holdfast-data.socket", "/lib/systemd/system/holdfast@.service",
        "/usr/share/doc/holdfast/examples/lighttpd-holdfast-multi.conf",
        "/usr/share/doc/holdfast/examples/nginx-holdfast-multi-http.conf",
        "/usr/share/doc/holdfast/examples/apache-holdfast-multi.conf",
        "/etc/holdfast/holdfast.json",
        "/etc/lighttpd/conf-available/50-holdfast.conf",
        "/etc/apache2/conf-available/holdfast.conf",
        "/etc/nginx/snippets/holdfast-http.conf", "/etc/nginx/snippets/holdfast-server.conf",
        "/usr/share/man/man8/holdfast.8.gz", "/usr/share/man/man1/holdfastctl.1.gz",
        "/usr/share/bash-completion/completions/holdfastctl",
        "/usr/share/doc/holdfast/copyright", "/usr/share/doc/holdfast/changelog.gz",
        "/usr/share/doc/holdfast/README.Debian",
    ]
    missing = [f for f in want if f not in files]
    assert not missing, "missing from the package: %s" % missing
    # the browser client: whatever cmake --install installs for it
    assert [f for f in files if f.startswith("/usr/share/holdfast/client/") and
            f.endswith(".js")], "no browser client under /usr/share/holdfast/client/"
    assert any(f.startswith("/usr/share/doc/holdfast/configuration.md") for f in files)
    assert any(f.startswith("/usr/share/doc/holdfast/deploy.md") for f in files)
    for path in ("/usr/bin/holdfast", "/usr/bin/holdfastctl"):
        assert files[path] == ("-rwxr-xr-x", "root/root"), (path, files[path])
    assert not [f for f in files if f.startswith("/usr/local")]


def test_conffiles(deb):
    conffiles = set(control_file(deb, "conffiles").split())
    assert conffiles == {
        "/etc/holdfast/holdfast.json",
        "/etc/lighttpd/conf-available/50-holdfast.conf",
        "/etc/apache2/conf-available/holdfast.conf",
        "/etc/nginx/snippets/holdfast-http.conf",
        "/etc/nginx/snippets/holdfast-server.conf",
    }


def extract(deb):
    d = tempfile.mkdtemp(prefix="hf-x-")
    subprocess.run(["dpkg-deb", "-x", deb, d], check=True, timeout=60)
    return d


def test_units_snippets_and_config(deb):
    d = extract(deb)
    try:
        unit = open(os.path.join(d, "lib/systemd/system/holdfast.service")).read()
        assert "ExecStart=/usr/bin/holdfast --config /etc/holdfast/holdfast.json" in unit
        assert "User=holdfast" in unit and "/usr/local" not in unit
        template = open(os.path.join(d, "lib/systemd/system/holdfast@.service")).read()
        assert "ExecStart=/usr/bin/holdfast --config /etc/holdfast/holdfast.json" in template
        assert "RuntimeDirectory=holdfast/%i" in template and "/usr/local" not in template
        for name in ("control", "data"):
            sock = open(os.path.join(d, "lib/systemd/system/holdfast-%s.socket" % name)).read()
            assert "SocketGroup=www-data" in sock and "SocketMode=0660" in sock
            assert "ListenStream=/run/holdfast/%s.sock" % name in sock
        for rel in ("etc/lighttpd/conf-available/50-holdfast.conf",
                    "etc/apache2/conf-available/holdfast.conf",
                    "etc/nginx/snippets/holdfast-http.conf",
                    "etc/nginx/snippets/holdfast-server.conf"):
            text = open(os.path.join(d, rel)).read()
            assert "@" + "CONTROL_SOCKET@" not in text and "@DATA_SOCKET@" not in text, rel
        assert "unix:/run/holdfast/data.sock" in open(
            os.path.join(d, "etc/nginx/snippets/holdfast-http.conf")).read()
        # The packaged config names every key holdfast knows (active or commented out) and
        # holdfast accepts it as shipped.
        config = os.path.join(d, "etc/holdfast/holdfast.json")
        text = open(config).read()
        helptext = subprocess.run([os.path.join(d, "usr/bin/holdfast"), "--help"],
                                  capture_output=True, text=True, timeout=10).stdout
        keys = {f[2:].replace("-", "_") for f in re.findall(r"^  (--[a-z-]+)", helptext, re.M)}
        keys -= {"config", "version", "help"}
        assert keys and not [k for k in keys if '"%s"' % k not in text]
        tmp = tempfile.mkdtemp(prefix="hf-c-")
        try:
            p = subprocess.run([os.path.join(d, "usr/bin/holdfast"), "--config", config,
                                "--control", "tcp:host", "--state-dir", tmp],
                               capture_output=True, text=True, timeout=10)
            # exactly the one error we planted: the file itself is valid
            assert p.returncode == 2 and p.stderr.count("\n") == 2, p.stderr
            assert 'control (--control): "tcp:host" has no :PORT' in p.stderr
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_maintainer_scripts_and_dependencies(deb):
    postinst = control_file(deb, "postinst")
    assert "adduser --system" in postinst
    assert "deb-systemd-helper" in postinst  # dh_installsystemd enables the units
    for unit in ("holdfast.service", "holdfast-control.socket", "holdfast-data.socket"):
        assert unit in postinst
    assert "holdfast@" not in postinst  # the template's instances are the operator's choice
    prerm = control_file(deb, "prerm")
    assert "deb-systemd-invoke stop" in prerm
    postrm = control_file(deb, "postrm")
    assert "deluser" in postrm and "purge" in postrm
    fields = dpkg_deb("-f", deb, "Depends", "Version", "Package")
    assert "libevent" in fields and "libssl3" in fields and "adduser" in fields
    version = re.search(r"^Version: (\S+)", fields, re.M).group(1)
    cmake = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    assert re.search(r"project\(holdfast VERSION %s " % re.escape(version), cmake), \
        "debian/changelog and CMakeLists.txt disagree on the version"


def test_man_pages_come_from_help(deb):
    d = extract(deb)
    try:
        for page, binary, section in (("usr/share/man/man8/holdfast.8.gz", "holdfast", "8"),
                                      ("usr/share/man/man1/holdfastctl.1.gz", "holdfastctl", "1")):
            text = subprocess.run(["zcat", os.path.join(d, page)], capture_output=True,
                                  text=True, check=True).stdout
            assert '.TH %s "%s"' % (binary.upper(), section) in text
            helptext = subprocess.run([os.path.join(d, "usr/bin", binary), "--help"],
                                      capture_output=True, text=True, timeout=10).stdout
            for flag in re.findall(r"^  (--[a-z-]+)", helptext, re.M):
                assert flag.replace("-", r"\-") in text, (page, flag)
        ctl = subprocess.run(["zcat", os.path.join(d, "usr/share/man/man1/holdfastctl.1.gz")],
                             capture_output=True, text=True, check=True).stdout
        assert "Exit status" in ctl
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_lintian_reports_no_errors(deb):
    args = ["lintian", "--fail-on", "error"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    p = subprocess.run(args + [deb], capture_output=True, text=True, timeout=600)
    errors = [l for l in p.stdout.splitlines() if l.startswith("E:")]
    assert p.returncode == 0 and not errors, p.stdout + p.stderr
    # every warning is one docs/packaging.md explains
    explained = open(os.path.join(ROOT, "docs", "packaging.md")).read()
    for line in p.stdout.splitlines():
        if line.startswith("W:"):
            tag = line.split()[2]
            assert tag in explained, "lintian warning not explained in docs/packaging.md: " + line
