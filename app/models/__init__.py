"""ORM tables. Import this package to register every table on ``Base.metadata``."""

from app.models.base import Base
from app.models.detection import (
    ChangeCounter,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
)
from app.models.ingest import (
    Account,
    AccountUsage,
    Activity,
    Observation,
    ObservedValue,
    PaymentMethod,
    PromptSample,
    RequestKey,
    TemplateSignature,
    TemplateText,
)
from app.models.review import ApiKey, AuditEntry, ReviewDecision

__all__ = [
    "Account",
    "AccountUsage",
    "Activity",
    "ApiKey",
    "AuditEntry",
    "Base",
    "ChangeCounter",
    "Cluster",
    "ClusterEdge",
    "ClusterMember",
    "ClusterSnapshot",
    "DetectionRun",
    "Observation",
    "ObservedValue",
    "PaymentMethod",
    "PromptSample",
    "RequestKey",
    "ReviewDecision",
    "TemplateSignature",
    "TemplateText",
]
