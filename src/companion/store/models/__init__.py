"""Tables owned by no single domain: users, companions, keys, conversations, turns, jobs."""

from __future__ import annotations

from companion.store.models.api_key import ApiKey
from companion.store.models.companion_profile import CompanionProfile
from companion.store.models.conversation import Conversation
from companion.store.models.interaction import Interaction
from companion.store.models.job_run import JobRun, JobUserMark
from companion.store.models.llm_call import LLMCall
from companion.store.models.message import Message
from companion.store.models.outbound_delivery import DELIVERY_STATUSES, OutboundDelivery
from companion.store.models.user import USER_STATUSES, User
from companion.store.models.work_item import WORK_STATUSES, WorkItem

__all__ = [
    "DELIVERY_STATUSES",
    "USER_STATUSES",
    "WORK_STATUSES",
    "ApiKey",
    "CompanionProfile",
    "Conversation",
    "Interaction",
    "JobRun",
    "JobUserMark",
    "LLMCall",
    "Message",
    "OutboundDelivery",
    "User",
    "WorkItem",
]
