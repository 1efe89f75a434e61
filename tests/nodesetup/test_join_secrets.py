"""Join secrets on resume: the join token and the uploaded certificates are checked on the first
control plane before joins and renewed when missing or expired, over a fake node shell that acts
like kubeadm (`token list -o json`, `token delete|create`, `init phase upload-certs`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput, RemoteCommandFailed
from aksnet.infra.jointoken import (
    CERTS_PROXY_DESCRIPTION as CERTS_PROXY,
)
from aksnet.infra.jointoken import (
    CertificateKey,
    JoinToken,
    parse_token_list,
)
from aksnet.infra.linuxnode import JoinSecrets, LinuxNode
from aksnet.plan import Action, RunContext, apply, dry_run
from aksnet.plan.journal import StoreJournal
from aksnet.remote.base import Completed

TOKEN = JoinToken("abcdef.0123456789abcdef")
KEY = CertificateKey("0f" * 32)
SECRETS = (TOKEN.reveal(), KEY.reveal())


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeKubeadm:
    """A first control plane's shell: kubeadm's token store, the certificate uploads, the argv
    and stdin it was sent."""

    tokens: dict[str, tuple[str, datetime, str]] = field(default_factory=dict)
    sent: list[tuple[list[str], bytes | None]] = field(default_factory=list)
    fail_list: bool = False

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        self.sent.append((list(argv), stdin))
        if list(argv) == ["sudo", "-n", "kubeadm", "token", "list", "-o", "json"]:
            if self.fail_list:
                return Completed(tuple(argv), 1, b"", b"error: no admin.conf")
            return Completed(tuple(argv), 0, self.listing().encode())
        assert argv[:4] == ["sudo", "-n", "sh", "-c"] and stdin is not None, argv
        secret = stdin.decode().strip()
        if "token create" in argv[4]:
            state, token_id, ttl = argv[6:]
            assert ttl == "24h" and token_id == secret.split(".")[0]
            if state == "listed":
                self.tokens.pop(token_id)
            assert token_id not in self.tokens, "kubeadm token create: already exists"
            self.tokens[token_id] = (secret, datetime.now(UTC) + timedelta(hours=24), "")
        else:
            assert "upload-certs --upload-certs --certificate-key" in argv[4]
            assert secret == KEY.reveal()
            self.tokens["proxy1"] = (
                "proxy1.aaaaaaaaaaaaaaaa",
                datetime.now(UTC) + timedelta(hours=2),
                CERTS_PROXY,
            )
        return Completed(tuple(argv), 0, b"")

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("no file is written")

    def listing(self) -> str:
        return "\n".join(
            json.dumps(
                {
                    "kind": "BootstrapToken",
                    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
                    "token": token,
                    "description": description,
                    "expires": stamp(expires),
                    "usages": ["authentication", "signing"],
                },
                indent=4,
            )
            for token, expires, description in self.tokens.values()
        )

    def actions(self) -> list[str]:
        return [argv[4] for argv, _ in self.sent if argv[2] == "sh"]


class EnsurePhase:
    title = "Check join secrets"

    def __init__(self, shell: FakeKubeadm, control_plane_join: bool = True) -> None:
        self.node = LinuxNode("c1-cp-0", "198.18.0.10", "init", shell)
        self.control_plane_join = control_plane_join

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> Iterator[Action]:
        JoinSecrets(ctx, self.node, TOKEN, KEY, SECRETS).ensure(self.control_plane_join)
        return iter(())


def fresh(hours: float = 2) -> FakeKubeadm:
    """Right after init with --upload-certs: the token and a certificate upload, both valid."""
    now = datetime.now(UTC)
    return FakeKubeadm(
        {
            TOKEN.token_id: (TOKEN.reveal(), now + timedelta(hours=hours), "init token"),
            "proxy0": (
                "proxy0.bbbbbbbbbbbbbbbb",
                now + timedelta(hours=2),
                CERTS_PROXY,
            ),
        }
    )


def test_valid_secrets_need_nothing() -> None:
    shell = fresh()
    assert apply([EnsurePhase(shell)]).changes == []
    assert shell.actions() == []


def test_a_missing_token_is_created_and_then_nothing_more() -> None:
    shell = fresh()
    del shell.tokens[TOKEN.token_id]
    result = apply([EnsurePhase(shell)])
    assert [r.title for r in result.changes] == [
        "create bootstrap token abcdef on c1-cp-0 (kubeadm token create, ttl 24h): "
        "it does not exist"
    ]
    assert shell.tokens[TOKEN.token_id][1] > datetime.now(UTC) + timedelta(hours=23)
    assert apply([EnsurePhase(shell)]).changes == []


def test_an_expired_token_listed_still_is_deleted_and_created_again() -> None:
    shell = fresh(hours=-3)
    result = apply([EnsurePhase(shell)])
    (title,) = [r.title for r in result.changes]
    assert title.endswith("it expired at " + stamp(datetime.now(UTC) - timedelta(hours=3)))
    assert 'kubeadm token delete "$2"' in shell.actions()[0]


def test_a_token_about_to_expire_is_renewed() -> None:
    shell = fresh(hours=0.1)
    (record,) = apply([EnsurePhase(shell, control_plane_join=False)]).changes
    assert "too soon for the joins" in record.title


def test_an_expired_certificate_upload_is_redone_only_for_control_plane_joins() -> None:
    shell = fresh()
    del shell.tokens["proxy0"]
    assert apply([EnsurePhase(shell, control_plane_join=False)]).changes == []
    (record,) = apply([EnsurePhase(shell)]).changes
    assert record.title == (
        "upload the control-plane certificates on c1-cp-0 (kubeadm init phase upload-certs): "
        "no upload is there (none yet, or kubeadm deleted it 2 hours after upload)"
    )
    assert apply([EnsurePhase(shell)]).changes == []


def test_secrets_travel_on_stdin_never_in_argv_titles_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shell = FakeKubeadm()
    caplog.set_level(logging.DEBUG)
    result = apply([EnsurePhase(shell)])
    assert len(result.changes) == 2
    assert {stdin for argv, stdin in shell.sent if stdin} == {
        f"{TOKEN.reveal()}\n".encode(),
        f"{KEY.reveal()}\n".encode(),
    }
    shown = [" ".join(argv) for argv, _ in shell.sent] + [r.title for r in result.records]
    for secret in SECRETS:
        assert all(secret not in text for text in shown)
        assert secret not in caplog.text


def test_a_dry_run_plans_both_and_sends_nothing_that_changes() -> None:
    shell = FakeKubeadm()
    plan = dry_run([EnsurePhase(shell)])
    assert [r.outcome for r in plan.records] == ["planned", "planned"]
    assert shell.actions() == [] and shell.tokens == {}


def test_renewals_are_redone_on_resume_when_time_made_them_needed_again(tmp_path: Path) -> None:
    """The journal says 'done' for the renewal of the first run; hours later it is needed again
    and the gate must not skip it (a once-only action of the same title would be)."""
    shell = fresh()
    del shell.tokens[TOKEN.token_id]
    db = tmp_path / "aksnet.db"
    with StoreJournal(db, kind="create", target="c1") as journal:
        apply([EnsurePhase(shell)], journal=journal)
        journal.finish("failed")  # as if a later phase failed: the operation stays open
    del shell.tokens[TOKEN.token_id]  # the TokenCleaner removed it after its expiry
    with StoreJournal(db, kind="create", target="c1") as journal:
        resumed = apply([EnsurePhase(shell)], journal=journal)
    assert resumed.resumed and [r.outcome for r in resumed.records] == ["done"]
    assert TOKEN.token_id in shell.tokens


def test_a_failing_token_list_names_the_host_and_shows_no_output() -> None:
    shell = fresh()
    shell.fail_list = True
    with pytest.raises(RemoteCommandFailed, match="c1-cp-0: kubeadm token list -o json failed"):
        apply([EnsurePhase(shell)])


def test_the_listing_parser_drops_secret_halves_and_refuses_garbage() -> None:
    listing = fresh().listing()
    parsed = parse_token_list(listing)
    assert {t.token_id for t in parsed} == {"abcdef", "proxy0"}
    assert TOKEN.reveal() not in repr(parsed)
    as_list = json.dumps(
        {"kind": "List", "items": [json.loads(fresh().listing().split("\n}")[0] + "}")]}
    )
    assert [t.token_id for t in parse_token_list(as_list)] == ["abcdef"]
    assert parse_token_list("") == ()
    with pytest.raises(InvalidInput) as caught:
        parse_token_list('{"token": "abcdef.0123456789abcdef", "expires": "soon"}')
    assert TOKEN.reveal() not in str(caught.value)
