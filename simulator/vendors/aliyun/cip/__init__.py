"""Alibaba Cloud Content Moderation 2.0 (内容安全 2.0, Green API 2022-03-02, ``green-cip.<region>``):
``ImageModeration``, ``TextModeration``, ``ImageAsyncModeration`` and ``DescribeImageModerationResult``.

RPC style: every action is ``POST /`` with the action in the ``Action`` query parameter (RPC v1
signature, HMAC-SHA1 over the parameters) or the ``x-acs-action`` header (ACS3-HMAC-SHA256), its
parameters ``Service`` and ``ServiceParameters`` (a JSON string) in the form body or the query. Each
action has a route of its own on ``/`` (``vendors.base.Route.select``), so the journal, fault rules
and the queue see the operation before the handler runs; whatever else reaches ``/`` is answered by
the POP gateway (``rpc_entry``).
"""

from __future__ import annotations

VERSION = "2022-03-02"

#: Action -> modsim operation
ACTIONS = {
    "ImageModeration": "image_moderation",
    "TextModeration": "text_moderation",
    "ImageAsyncModeration": "image_async_moderation",
    "DescribeImageModerationResult": "describe_image_moderation_result",
}
OPERATIONS = frozenset(ACTIONS.values())
#: the operations whose answer carries ``Message`` (TextModeration); the image ones say ``Msg``
MESSAGE_KEY_OPS = frozenset({"text_moderation"})
#: the operation answering everything on ``/`` that no action route takes
ENTRY = "rpc_entry"
