"""Tables. Every tenant table carries ``shop_id`` and is removed with its shop."""

from shop_app.models.accounts import (
    Agent,
    AgentSession,
    ApiKey,
    LimitScope,
    Membership,
    Role,
    SignInFailure,
)
from shop_app.models.answers import (
    AnswerSettings,
    BotDecision,
    DecisionAction,
    ReplyTemplate,
    TicketVerification,
    Verification,
    VerificationAttempt,
)
from shop_app.models.app_proxy_signatures import AnsweredProxySignature
from shop_app.models.catalog import Product, ProductVariant
from shop_app.models.compliance import ComplianceAudit, CustomerDataExport
from shop_app.models.connectors import (
    Connector,
    ConnectorConversation,
    ConnectorEvent,
    ConnectorEventStatus,
    ConnectorVendor,
)
from shop_app.models.customers import Customer
from shop_app.models.deleted_record import DeletedRecord
from shop_app.models.helpdesk import (
    AuthorType,
    Channel,
    Contact,
    LinkReason,
    Message,
    SavedReply,
    Ticket,
    TicketStatus,
    TicketTag,
)
from shop_app.models.insights import (
    CsatSurvey,
    InsightDay,
    InsightDayKey,
    InsightOrderDay,
    InsightRollupState,
    InsightTicket,
)
from shop_app.models.inventory import InventoryLevel, Location
from shop_app.models.knowledge import FaqEntry, PolicyType, ShopPolicy
from shop_app.models.line import (
    LineAccountLink,
    LineConnection,
    LineEventStatus,
    LineMessageRef,
    LineUser,
    LineWebhookEvent,
)
from shop_app.models.mail import MailAttachment, MailDirection, MailMessageId, MailSettings, MailThread
from shop_app.models.notices import (
    NoticeRule,
    NoticeSettings,
    ProactiveNotice,
    StockSubscription,
    SubscriptionStatus,
)
from shop_app.models.oauth_state import OAuthState
from shop_app.models.order_actions import (
    ActionEventKind,
    ActionKind,
    ActionPolicy,
    ActionStatus,
    OrderAction,
    OrderActionEvent,
)
from shop_app.models.orders import Fulfillment, FulfillmentOrder, Order, OrderLineItem
from shop_app.models.outbox import OutboxMessage, OutboxStatus
from shop_app.models.shop import Shop, ShopCredential, ShopStatus
from shop_app.models.sync_state import SyncState
from shop_app.models.webhook_delivery import DeliveryStatus, WebhookDelivery
from shop_app.models.widget_sessions import WidgetSession

__all__ = [
    "ActionEventKind",
    "ActionKind",
    "ActionPolicy",
    "ActionStatus",
    "Agent",
    "AgentSession",
    "AnswerSettings",
    "AnsweredProxySignature",
    "ApiKey",
    "AuthorType",
    "BotDecision",
    "Channel",
    "ComplianceAudit",
    "Connector",
    "ConnectorConversation",
    "ConnectorEvent",
    "ConnectorEventStatus",
    "ConnectorVendor",
    "Contact",
    "CsatSurvey",
    "Customer",
    "CustomerDataExport",
    "DecisionAction",
    "DeletedRecord",
    "DeliveryStatus",
    "FaqEntry",
    "Fulfillment",
    "FulfillmentOrder",
    "InsightDay",
    "InsightDayKey",
    "InsightOrderDay",
    "InsightRollupState",
    "InsightTicket",
    "InventoryLevel",
    "LimitScope",
    "LineAccountLink",
    "LineConnection",
    "LineEventStatus",
    "LineMessageRef",
    "LineUser",
    "LineWebhookEvent",
    "LinkReason",
    "Location",
    "MailAttachment",
    "MailDirection",
    "MailMessageId",
    "MailSettings",
    "MailThread",
    "Membership",
    "Message",
    "NoticeRule",
    "NoticeSettings",
    "OAuthState",
    "Order",
    "OrderAction",
    "OrderActionEvent",
    "OrderLineItem",
    "OutboxMessage",
    "OutboxStatus",
    "PolicyType",
    "ProactiveNotice",
    "Product",
    "ProductVariant",
    "ReplyTemplate",
    "Role",
    "SavedReply",
    "Shop",
    "ShopCredential",
    "ShopPolicy",
    "ShopStatus",
    "SignInFailure",
    "StockSubscription",
    "SubscriptionStatus",
    "SyncState",
    "Ticket",
    "TicketStatus",
    "TicketTag",
    "TicketVerification",
    "Verification",
    "VerificationAttempt",
    "WebhookDelivery",
    "WidgetSession",
]
