"""The chat path, one module per step (docs/ARCHITECTURE.md, "The request path"):

- `request`: read and check the body (`parse_body`) into a `ChatInput`;
- `planning`: resolve the model or policy on the catalog copy into the candidates (`Plan`);
- `context`: the per-request facts every step reads and fills (`ChatContext`);
- `admission`: rate limits, the budget reservation and its release;
- `cache_step`: exact-cache lookup, replay of a hit, store, a leader's abandon;
- `attempts`: the one candidate loop (fallback rule, model-call spans);
- `settlement`: pricing, the outbox record, the receipt facts;
- `presentation`: the caller's API shape (`Presenter`), the `nextmodel` object, header facts;
- `quoting`, `compare`: the Quote and Compare calls;
- `background`: the work requests leave running, waited for at shutdown;
- `flow`: `ChatFlow`, which strings the steps together.
"""

from nextmodel_router.chat.admission import worst_case_nano
from nextmodel_router.chat.attempts import upstream_gateway_error
from nextmodel_router.chat.background import BackgroundTasks
from nextmodel_router.chat.flow import ChatFlow
from nextmodel_router.chat.presentation import OPENAI_CHAT, Presenter, nextmodel_object
from nextmodel_router.chat.request import ChatInput, parse_body

__all__ = ["OPENAI_CHAT", "BackgroundTasks", "ChatFlow", "ChatInput", "Presenter", "nextmodel_object",
           "parse_body", "upstream_gateway_error", "worst_case_nano"]
