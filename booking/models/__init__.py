"""All models, imported here so Alembic and the app see one metadata."""

from booking.models.account_link import AccountLink, AccountLinkPurpose
from booking.models.aftercare import AftercareCheckin, SideEffectReport
from booking.models.api_support import ApiIdempotencyKey, RateLimitCounter
from booking.models.api_token import ApiToken
from booking.models.appointment import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingSource,
)
from booking.models.article import Article, ArticleStatus, Tag, article_tag
from booking.models.audit import AuditEvent
from booking.models.availability_version import AvailabilityVersion
from booking.models.booking_draft import BookingDraft, EmailLink
from booking.models.clinic import (
    Clinic,
    HolidayOpening,
    LateCancelMode,
    Location,
    Room,
    RoomKind,
)
from booking.models.clinical_note import ClinicalNote, NoteAddendum, NoteFollowUp
from booking.models.intake import (
    Consent,
    ConsentMethod,
    ConsentText,
    FlagSeverity,
    IntakeResponse,
    IntakeStatus,
    Modality,
    PatientFlag,
    QuestionnaireVersion,
)
from booking.models.intake_browser import IntakeBrowser
from booking.models.manage_link import ManageLink
from booking.models.outbox import OutboxMessage, OutboxStatus
from booking.models.patient import ContactPreference, PatientProfile
from booking.models.plan import (
    ChangeRequestStatus,
    OutcomeMeasure,
    OutcomeRecord,
    OutcomeSource,
    PlanAppointment,
    PlanChangeRequest,
    PlanPhase,
    PlanStatus,
    TreatmentPlan,
)
from booking.models.practitioner import (
    ExceptionKind,
    Practitioner,
    ScheduleException,
    WorkingHours,
    practitioner_session_type,
)
from booking.models.privacy import ErasureRequest, ErasureStatus
from booking.models.reference_version import ReferenceVersion
from booking.models.session_type import Audience, SessionType
from booking.models.sign_in_throttle import SignInThrottle
from booking.models.user import STAFF_ROLES, RecoveryCode, Role, User, UserSession
from booking.models.waitlist import (
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

__all__ = [
    "AvailabilityVersion",
    "AccountLink",
    "AccountLinkPurpose",
    "ClinicalNote",
    "NoteAddendum",
    "NoteFollowUp",
    "ChangeRequestStatus",
    "OutcomeMeasure",
    "OutcomeRecord",
    "OutcomeSource",
    "PlanAppointment",
    "PlanChangeRequest",
    "PlanPhase",
    "PlanStatus",
    "TreatmentPlan",
    "AftercareCheckin",
    "OfferStatus",
    "SideEffectReport",
    "WaitlistEntry",
    "WaitlistOffer",
    "WaitlistStatus",
    "ApiIdempotencyKey",
    "ApiToken",
    "RateLimitCounter",
    "Article",
    "ArticleStatus",
    "Tag",
    "article_tag",
    "LIVE_STATUSES",
    "STAFF_ROLES",
    "Appointment",
    "AppointmentStatus",
    "Audience",
    "AuditEvent",
    "BookingDraft",
    "BookingSource",
    "Clinic",
    "HolidayOpening",
    "Consent",
    "ConsentMethod",
    "ConsentText",
    "ContactPreference",
    "FlagSeverity",
    "IntakeBrowser",
    "IntakeResponse",
    "IntakeStatus",
    "Modality",
    "PatientFlag",
    "QuestionnaireVersion",
    "EmailLink",
    "ErasureRequest",
    "ErasureStatus",
    "ExceptionKind",
    "LateCancelMode",
    "ManageLink",
    "ReferenceVersion",
    "Location",
    "OutboxMessage",
    "OutboxStatus",
    "PatientProfile",
    "Practitioner",
    "Role",
    "Room",
    "RoomKind",
    "ScheduleException",
    "SessionType",
    "SignInThrottle",
    "RecoveryCode",
    "User",
    "UserSession",
    "WorkingHours",
    "practitioner_session_type",
]
