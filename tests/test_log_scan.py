"""The log scan itself must catch what it is meant to catch."""

from tests.support.log_scan import leaks_in
from tests.support.stack import ADMIN_KEY


def test_the_scan_finds_keys_and_content() -> None:
    assert leaks_in(f'{{"msg": "auth", "key": "{ADMIN_KEY}"}}')
    assert leaks_in('{"msg": "generated nm-' + "x" * 43 + '"}')
    assert leaks_in('{"upstream": "Bearer sk-test-openai-upstream-secret"}')
    assert leaks_in('{"prompt": "مرحبا بكم"}')
    assert not leaks_in('{"msg": "development project ready", "key_prefix": "nm-abc1234"}')
