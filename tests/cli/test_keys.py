"""``accord key new|import|list|show`` end to end through the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cli_helpers import FP, PASSPHRASE, Accord, assert_matches, assert_refused, assert_usage_error
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import keys as key_store

PARTIES = ("acme", "burgerco", "mallory", "veggie")
SEEDS = {"acme": 1, "burgerco": 2, "veggie": 3, "mallory": 4}  # tests/conftest.py seed_key
SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")


def facts(name: str, path: Path, fingerprint: str = "<fingerprint>", pub: str = "<pubkey>") -> str:
    """The ``key new``/``key import`` table output, as a template."""
    return (
        f"name         {name}\n"
        f"fingerprint  {fingerprint}\n"
        f"public_key   {pub}\n"
        f"path         {path}\n"
    )


def openssh_fingerprint(public_line: str) -> str:
    """The OpenSSH SHA256 fingerprint, computed here independently of accord."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def public_line(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def secret_forms(secret: bytes) -> list[str]:
    """The ways 32 private bytes could leak into text."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    ]


def assert_no_private_material(output: str, *secrets: bytes) -> None:
    assert "PRIVATE KEY" not in output
    assert PASSPHRASE not in output
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in output


def ssh_keygen(path: Path, passphrase: str = "", kind: str = "ed25519") -> Path:
    assert SSH_KEYGEN is not None
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", kind, "-N", passphrase, "-C", "someone@example", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def stored_private_bytes(home: Path, name: str, passphrase: str) -> bytes:
    signer = key_store.load_signer(name, name, passphrase, home)
    return raw(signer.private_key)


# --- key new --------------------------------------------------------------------------------


def test_key_new_with_accord_passphrase_prints_the_new_keys_public_facts(
    accord: Accord, home: Path
) -> None:
    result = accord.ok("key", "new", "carol")

    assert_matches(result.output, facts("carol", home / "keys" / "carol.key"))
    info = key_store.info("carol")
    assert info.fingerprint == openssh_fingerprint(info.public_key)
    assert stored_private_bytes(home, "carol", PASSPHRASE)


def test_key_new_prompts_twice_for_the_passphrase_when_accord_passphrase_is_unset(
    accord: Accord, home: Path
) -> None:
    result = accord.ok(
        "key", "new", "carol", input="pass phrase\npass phrase\n", env={"ACCORD_PASSPHRASE": None}
    )

    assert_matches(
        result.output,
        "Passphrase for the new key 'carol': \nRepeat for confirmation: \n"
        + facts("carol", home / "keys" / "carol.key"),
    )
    assert "pass phrase" not in result.output
    assert stored_private_bytes(home, "carol", "pass phrase")


def test_key_new_asks_again_when_the_confirmation_does_not_match(
    accord: Accord, home: Path
) -> None:
    result = accord.ok(
        "key", "new", "carol",
        input="pass phrase\nother phrase\npass phrase\npass phrase\n",
        env={"ACCORD_PASSPHRASE": None},
    )  # fmt: skip

    prompts = "Passphrase for the new key 'carol': \nRepeat for confirmation: \n"
    assert_matches(
        result.output,
        prompts
        + "Error: The two entered values do not match.\n"
        + prompts
        + facts("carol", home / "keys" / "carol.key"),
    )
    assert stored_private_bytes(home, "carol", "pass phrase")


def test_key_new_gives_up_without_a_key_when_the_confirmation_never_matches(
    accord: Accord, home: Path
) -> None:
    result = accord(
        "key", "new", "carol", input="pass phrase\nother phrase\n", env={"ACCORD_PASSPHRASE": None}
    )

    assert result.exit_code == 2
    assert result.stderr == (
        "\nError: no passphrase was given (the prompt was ended)\n"
        "Hint: type it at the prompt, or set ACCORD_PASSPHRASE for automation\n"
    )
    assert "Error: The two entered values do not match." in result.stdout
    assert not (home / "keys" / "carol.key").exists()
    assert not (home / "keys" / "carol.pub").exists()


@pytest.mark.parametrize("via", ["env", "prompt"])
def test_key_new_refuses_a_passphrase_shorter_than_eight_characters(
    accord: Accord, home: Path, via: str
) -> None:
    if via == "env":
        result = accord("key", "new", "carol", env={"ACCORD_PASSPHRASE": "short"})
        assert result.stdout == ""
        assert result.stderr == (
            "Error: the passphrase must have at least 8 characters\n"
            "Hint: choose a longer passphrase (ACCORD_PASSPHRASE for automation)\n"
        )
    else:
        # Refused as it is typed (before the confirmation), asked again; the input ends.
        result = accord(
            "key", "new", "carol", input="short\nshort\n", env={"ACCORD_PASSPHRASE": None}
        )
        assert result.stdout == (
            "Passphrase for the new key 'carol': \n"
            "Error: the passphrase must have at least 8 characters\n"
            "Passphrase for the new key 'carol': \n"
            "Error: the passphrase must have at least 8 characters\n"
            "Passphrase for the new key 'carol': \n\n"
        )
        assert result.stderr == (
            "\nError: no passphrase was given (the prompt was ended)\n"
            "Hint: type it at the prompt, or set ACCORD_PASSPHRASE for automation\n"
        )
    assert result.exit_code == 2
    assert not (home / "keys" / "carol.key").exists()


def test_key_new_asks_again_after_a_short_passphrase_and_takes_a_long_one(
    accord: Accord, home: Path
) -> None:
    result = accord(
        "key", "new", "carol", input="short\nlong enough\nlong enough\n",
        env={"ACCORD_PASSPHRASE": None},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Passphrase for the new key 'carol': \n"
        "Error: the passphrase must have at least 8 characters\n"
        "Passphrase for the new key 'carol': \n"
        "Repeat for confirmation: \n"
    )
    assert stored_private_bytes(home, "carol", "long enough")


def test_a_signing_prompt_ended_without_a_passphrase_is_a_usage_error(
    accord: Accord, home: Path
) -> None:
    accord.ok("init")
    result = accord(
        "project", "propose", "spring", "--title", "Spring", "--member", "burgerco",
        "--as", "acme", input="", env={"ACCORD_PASSPHRASE": None},
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "\nError: no passphrase was given (the prompt was ended)\n"
        "Hint: type it at the prompt, or set ACCORD_PASSPHRASE for automation\n"
    )
    assert accord.ok("project", "list").stdout == "(no projects yet)\n"


def test_key_new_refuses_an_invalid_key_name(accord: Accord, home: Path) -> None:
    result = accord("key", "new", "Carol Smith")

    assert_refused(
        result,
        2,
        "key name 'Carol Smith' is not valid",
        "use lower-case letters, digits, '.', '-' and '_' (acme, acme-2026)",
    )
    assert sorted(p.name for p in (home / "keys").iterdir()) == sorted(
        f"{p}.{ext}" for p in PARTIES for ext in ("key", "pub")
    )


def test_key_new_refuses_a_name_that_is_taken_and_keeps_the_old_key(
    accord: Accord, home: Path
) -> None:
    before = (home / "keys" / "acme.key").read_bytes()

    result = accord("key", "new", "acme")

    assert_refused(
        result,
        2,
        f"a key named 'acme' exists already ({home / 'keys' / 'acme.key'})",
        "choose another name; accord never overwrites a key",
    )
    assert (home / "keys" / "acme.key").read_bytes() == before


def test_key_new_writes_the_private_key_encrypted_with_mode_0600(
    accord: Accord, home: Path
) -> None:
    accord.ok("key", "new", "carol")

    key_file = home / "keys" / "carol.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert stat.S_IMODE((home / "keys").stat().st_mode) & 0o077 == 0
    pub = (home / "keys" / "carol.pub").read_text()
    assert pub == f"{key_store.info('carol').public_key} carol\n"


# --- key show and key list -----------------------------------------------------------------


def test_key_show_prints_the_public_key_line_and_its_fingerprint(accord: Accord) -> None:
    result = accord.ok("key", "show", "acme")

    line = public_line(Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32))
    assert result.output == (f"{line} acme\n256 {openssh_fingerprint(line)} acme (ED25519)\n")


@needs_ssh_keygen
@pytest.mark.parametrize("name", ["acme", "veggie"])
def test_key_show_prints_exactly_what_ssh_keygen_prints_for_the_public_key(
    accord: Accord, home: Path, name: str
) -> None:
    assert SSH_KEYGEN is not None
    pub = home / "keys" / f"{name}.pub"
    expected = subprocess.run(
        [SSH_KEYGEN, "-lf", str(pub)], check=True, capture_output=True, text=True
    ).stdout

    result = accord.ok("key", "show", name)

    assert result.output.splitlines() == [pub.read_text().strip(), expected.strip()]


def test_key_show_as_json_and_csv_carries_the_same_public_facts(accord: Accord, home: Path) -> None:
    info = key_store.info("burgerco")
    expected = {
        "name": "burgerco",
        "fingerprint": info.fingerprint,
        "public_key": info.public_key,
        "path": str(home / "keys" / "burgerco.key"),
    }

    assert accord.json("key", "show", "burgerco") == expected
    result = accord.ok("key", "show", "burgerco", "--format", "csv")
    assert result.output == (
        "name,fingerprint,public_key,path\n"
        f"burgerco,{info.fingerprint},{info.public_key},{home / 'keys' / 'burgerco.key'}\n"
    )


def test_key_show_of_an_unknown_key_is_not_found(accord: Accord, home: Path) -> None:
    result = accord("key", "show", "nobody")

    assert_refused(
        result,
        3,
        f"no key named 'nobody' in {home / 'keys'}",
        "`accord key list` shows your keys; `accord key new NAME` makes one",
    )


def test_key_show_of_a_corrupt_public_key_file_is_a_key_file_problem(
    accord: Accord, home: Path
) -> None:
    (home / "keys" / "acme.pub").write_text("ssh-ed25519 not-base64!! acme\n")

    result = accord("key", "show", "acme")

    assert_refused(
        result,
        7,
        f"public key file {home / 'keys' / 'acme.pub'} is missing or corrupt (VerificationError)",
        "re-import the key under a new name",
    )


def test_key_list_shows_every_key_with_its_fingerprint(accord: Accord, home: Path) -> None:
    infos = [key_store.info(p) for p in PARTIES]
    width = max(len(i.path) for i in infos)

    result = accord.ok("key", "list")

    header = f"name      fingerprint{' ' * 41}public_key{' ' * 72}path"
    rule = f"{'-' * 8}  {'-' * 50}  {'-' * 80}  {'-' * width}"
    rows = [f"{i.name:<8}  {i.fingerprint}  {i.public_key}  {i.path}" for i in infos]
    assert result.output.splitlines() == [header.rstrip(), rule, *rows]
    assert all(i.fingerprint == openssh_fingerprint(i.public_key) for i in infos)


def test_key_list_as_json_and_csv_lists_the_same_keys(accord: Accord, home: Path) -> None:
    infos = [key_store.info(p) for p in PARTIES]

    assert accord.json("key", "list") == [
        {"name": i.name, "fingerprint": i.fingerprint, "public_key": i.public_key, "path": i.path}
        for i in infos
    ]
    result = accord.ok("key", "list", "--format", "csv")
    assert result.output.splitlines() == [
        "name,fingerprint,public_key,path",
        *(f"{i.name},{i.fingerprint},{i.public_key},{i.path}" for i in infos),
    ]


def test_key_list_says_how_to_make_a_key_when_there_is_none(accord: Accord, tmp_path: Path) -> None:
    empty = tmp_path / "empty-home"

    result = accord.ok("key", "list", env={"ACCORD_HOME": str(empty)})

    assert result.output == (
        f"(no keys in {empty / 'keys'}; create one with `accord key new NAME`)\n"
    )
    assert accord.json("key", "list", env={"ACCORD_HOME": str(empty)}) == []


# --- key import -----------------------------------------------------------------------------


@needs_ssh_keygen
def test_key_import_takes_an_unencrypted_openssh_key_from_ssh_keygen(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = ssh_keygen(tmp_path / "id_ed25519")
    line = " ".join(Path(f"{source}.pub").read_text().split()[:2])

    result = accord.ok("key", "import", "carol", str(source))

    assert result.output == facts(
        "carol", home / "keys" / "carol.key", openssh_fingerprint(line), line
    )
    key_file = home / "keys" / "carol.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    source_key = serialization.load_ssh_private_key(source.read_bytes(), None)
    assert isinstance(source_key, Ed25519PrivateKey)
    assert stored_private_bytes(home, "carol", PASSPHRASE) == raw(source_key)


@needs_ssh_keygen
def test_key_import_reads_the_source_passphrase_from_accord_import_passphrase(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = ssh_keygen(tmp_path / "id_ed25519", passphrase="source secret")
    line = " ".join(Path(f"{source}.pub").read_text().split()[:2])

    result = accord.ok(
        "key", "import", "carol", str(source), env={"ACCORD_IMPORT_PASSPHRASE": "source secret"}
    )

    assert result.output == facts(
        "carol", home / "keys" / "carol.key", openssh_fingerprint(line), line
    )
    assert key_store.info("carol").fingerprint == openssh_fingerprint(line)


@needs_ssh_keygen
def test_key_import_prompts_for_the_source_passphrase(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = ssh_keygen(tmp_path / "id_ed25519", passphrase="source secret")
    line = " ".join(Path(f"{source}.pub").read_text().split()[:2])

    result = accord.ok("key", "import", "carol", str(source), input="source secret\n")

    assert result.output == f"Passphrase of {source}: \n" + facts(
        "carol", home / "keys" / "carol.key", openssh_fingerprint(line), line
    )


@needs_ssh_keygen
def test_key_import_prompts_for_both_passphrases_when_neither_is_in_the_environment(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = ssh_keygen(tmp_path / "id_ed25519", passphrase="source secret")

    result = accord.ok(
        "key", "import", "carol", str(source),
        input="source secret\nnew pass phrase\nnew pass phrase\n",
        env={"ACCORD_PASSPHRASE": None},
    )  # fmt: skip

    assert_matches(
        result.output,
        f"Passphrase of {source}: \n"
        "New passphrase for key 'carol': \nRepeat for confirmation: \n"
        + facts("carol", home / "keys" / "carol.key"),
    )
    assert "secret" not in result.output
    assert stored_private_bytes(home, "carol", "new pass phrase")


@needs_ssh_keygen
def test_key_import_with_the_wrong_source_passphrase_is_a_key_file_problem(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = ssh_keygen(tmp_path / "id_ed25519", passphrase="source secret")

    result = accord(
        "key", "import", "carol", str(source), env={"ACCORD_IMPORT_PASSPHRASE": "wrong secret"}
    )

    assert_refused(result, 7, f"wrong passphrase for key file {source}", "try the passphrase again")
    assert not (home / "keys" / "carol.key").exists()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_key_import_takes_a_pkcs8_pem_ed25519_key(
    accord: Accord, home: Path, tmp_path: Path, encrypted: bool
) -> None:
    key = Ed25519PrivateKey.generate()
    encryption = (
        serialization.BestAvailableEncryption(b"pem secret")
        if encrypted
        else serialization.NoEncryption()
    )
    source = tmp_path / "key.pem"
    source.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    line = public_line(key)

    result = accord.ok(
        "key", "import", "carol", str(source), env={"ACCORD_IMPORT_PASSPHRASE": "pem secret"}
    )

    assert result.output == facts(
        "carol", home / "keys" / "carol.key", openssh_fingerprint(line), line
    )
    assert stored_private_bytes(home, "carol", PASSPHRASE) == raw(key)
    assert_no_private_material(result.output, raw(key))


@pytest.mark.parametrize("form", ["openssh", "pkcs8"])
def test_key_import_refuses_an_rsa_key(
    accord: Accord, home: Path, tmp_path: Path, form: str
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    source = tmp_path / "id_rsa"
    private_format = (
        serialization.PrivateFormat.OpenSSH
        if form == "openssh"
        else serialization.PrivateFormat.PKCS8
    )
    source.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    )

    result = accord("key", "import", "carol", str(source))

    assert_refused(
        result,
        7,
        f"key file {source} does not hold an Ed25519 key",
        "create one with `accord key new` or `ssh-keygen -t ed25519`",
    )
    assert not (home / "keys" / "carol.key").exists()


def test_key_import_of_a_missing_path_is_not_found(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    result = accord("key", "import", "carol", str(tmp_path / "no-such-key"))

    assert_refused(result, 3, f"no key file at {tmp_path / 'no-such-key'}", "check the path")
    assert not (home / "keys" / "carol.key").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a key\n",
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
        b"",
    ],
    ids=["text", "truncated-openssh", "bad-pkcs8", "empty"],
)
def test_key_import_of_a_corrupt_file_is_a_key_file_problem(
    accord: Accord, home: Path, tmp_path: Path, content: bytes
) -> None:
    source = tmp_path / "corrupt"
    source.write_bytes(content)

    result = accord("key", "import", "carol", str(source))

    assert_refused(
        result,
        7,
        f"key file {source} is not a readable private key",
        "accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
    )
    assert not (home / "keys" / "carol.key").exists()


def test_key_import_refuses_to_overwrite_an_existing_key(
    accord: Accord, home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "key.pem"
    source.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    before = {p.name: p.read_bytes() for p in (home / "keys").iterdir()}

    result = accord("key", "import", "acme", str(source))

    assert_refused(
        result,
        2,
        f"a key named 'acme' exists already ({home / 'keys' / 'acme.key'})",
        "choose another name; accord never overwrites a key",
    )
    assert {p.name: p.read_bytes() for p in (home / "keys").iterdir()} == before


@pytest.mark.parametrize("command", ["new", "import"])
def test_a_taken_key_name_is_refused_before_any_passphrase_prompt(
    accord: Accord, home: Path, tmp_path: Path, command: str
) -> None:
    source = tmp_path / "key.pem"
    source.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    args = ["key", "new", "acme"] if command == "new" else ["key", "import", "acme", str(source)]

    result = accord(*args, input="", env={"ACCORD_PASSPHRASE": None})

    assert_refused(
        result,
        2,
        f"a key named 'acme' exists already ({home / 'keys' / 'acme.key'})",
        "choose another name; accord never overwrites a key",
    )


def test_key_import_without_a_path_is_a_usage_error(accord: Accord) -> None:
    result = accord("key", "import", "carol")

    assert_usage_error(
        result, "Usage: accord key import [OPTIONS] NAME PATH", "Missing argument 'PATH'."
    )


# --- private key material never shows -------------------------------------------------------


@pytest.mark.parametrize("output_format", ["table", "json", "csv"])
def test_no_key_command_ever_prints_private_key_material(
    accord: Accord, home: Path, tmp_path: Path, output_format: str
) -> None:
    imported = Ed25519PrivateKey.generate()
    source = tmp_path / "key.pem"
    source.write_bytes(
        imported.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    fmt = ["--format", output_format]
    outputs = [
        accord.ok("key", "new", "carol", *fmt).output,
        accord.ok("key", "import", "dave", str(source), *fmt).output,
        accord.ok("key", "list", *fmt).output,
        *(accord.ok("key", "show", name, *fmt).output for name in (*PARTIES, "carol", "dave")),
    ]
    secrets = [
        raw(Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)) for seed in SEEDS.values()
    ]
    secrets += [raw(imported), stored_private_bytes(home, "carol", PASSPHRASE)]

    for output in outputs:
        assert_no_private_material(output, *secrets)
        if output_format == "json":
            data = json.loads(output)
            for record in data if isinstance(data, list) else [data]:
                assert set(record) == {"name", "fingerprint", "public_key", "path"}


def test_a_key_file_readable_by_others_is_refused_when_signing(
    initialised: Accord, home: Path
) -> None:
    key_file = home / "keys" / "acme.key"
    os.chmod(key_file, 0o644)

    with initialised.unchanged():
        result = initialised(
            "project", "propose", "camp", "--title", "Camp", "--member", "burgerco", "--as", "acme"
        )

    assert_refused(
        result,
        7,
        f"key file {key_file} is readable by others (mode 0o644)",
        f"run: chmod 600 {key_file}",
    )


def test_the_fixed_seed_keys_have_the_fingerprints_the_cli_tests_expect(accord: Accord) -> None:
    for name in PARTIES:
        line = public_line(Ed25519PrivateKey.from_private_bytes(bytes([SEEDS[name]]) * 32))
        assert key_store.info(name).fingerprint == openssh_fingerprint(line) == FP[name]


def test_without_as_a_home_with_one_key_acts_as_that_key(accord: Accord, tmp_path: Path) -> None:
    solo = {"ACCORD_HOME": str(tmp_path / "solo"), "ACCORD_PARTY": None}
    accord.ok("key", "new", "acme", env=solo)
    accord.ok("init")
    proposed = accord.json(
        "project", "propose", "spring", "--title", "Spring", "--member", "burgerco", env=solo
    )
    assert (proposed["seq"], proposed["by"]) == (1, "acme")
    assert accord.ok("todo", env=solo).stdout == "(nothing waits for acme)\n"


def test_without_as_a_home_with_several_keys_asks_which(accord: Accord) -> None:
    accord.ok("init")
    for args in (
        ("project", "propose", "spring", "--title", "Spring", "--member", "burgerco"),
        ("todo",),
    ):
        result = accord(*args, env={"ACCORD_PARTY": None})
        assert_refused(
            result,
            2,
            "name the party with --as HANDLE (or ACCORD_PARTY)",
            "this home holds 4 keys (acme, burgerco, mallory, veggie): name the one to act as",
        )


def test_without_as_a_home_without_keys_says_how_to_make_one(
    accord: Accord, tmp_path: Path
) -> None:
    accord.ok("init")
    result = accord("todo", env={"ACCORD_HOME": str(tmp_path / "empty"), "ACCORD_PARTY": None})
    assert_refused(
        result,
        2,
        "name the party with --as HANDLE (or ACCORD_PARTY)",
        "this home holds no key: `accord key new NAME` creates one",
    )
