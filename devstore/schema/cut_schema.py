"""Cut the store's schema out of Shopify's Admin GraphQL schema.

Run by hand when the list below changes:

    python -m devstore.schema.cut_schema ../shared/shopify-reference/admin-graphql-schema/admin-2026-07.graphql

Kept definitions are copied unchanged (names, arguments, defaults, nullability, enum values, input
fields, deprecations, descriptions). Object and interface types listed in `FIELDS` keep exactly those
fields; connection and edge types keep their paging fields; any other object type reached keeps its
scalar and enum fields. A type keeps an interface only if the interface is in `INTERFACES` and the type
kept all of its fields.
"""

from __future__ import annotations

import copy
import pathlib
import sys
from collections.abc import Iterable

from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

OUTPUT = pathlib.Path(__file__).with_name("admin-2026-07.graphql")
BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
INTERFACES = frozenset({"Node", "LegacyInteroperability", "DisplayableError"})

FIELDS: dict[str, str] = {
    "QueryRoot": """shop node nodes order orders customer customers product products productVariant
        productVariants inventoryItem inventoryItems location locations bulkOperation bulkOperations
        currentBulkOperation webhookSubscriptions webhookSubscription ordersCount customersCount productsCount
        productVariantsCount shopLocales""",
    "Mutation": """bulkOperationRunQuery bulkOperationCancel webhookSubscriptionCreate webhookSubscriptionDelete
        webhookSubscriptionUpdate orderCancel refundCreate orderUpdate fulfillmentOrderHold
        fulfillmentOrderReleaseHold tagsAdd orderInvoiceSend fulfillmentTrackingInfoUpdate""",
    "Node": "id",
    "LegacyInteroperability": "legacyResourceId",
    "DisplayableError": "field message",
    "Shop": """id name myshopifyDomain email contactEmail currencyCode ianaTimezone billingAddress shopAddress
        plan primaryDomain url shopPolicies""",
    "ShopPolicy": "id type title body url createdAt updatedAt",
    "ShopLocale": "locale name primary published",
    "Domain": "id host url sslEnabled",
    "Order": """id legacyResourceId name number createdAt updatedAt processedAt closedAt closed cancelledAt cancelReason
        displayFinancialStatus displayFulfillmentStatus email phone currencyCode totalPriceSet subtotalPriceSet
        totalRefundedSet currentTotalPriceSet totalShippingPriceSet totalTaxSet totalDiscountsSet
        shippingAddress billingAddress customAttributes tags note customer lineItems fulfillments
        fulfillmentOrders refunds sourceName suggestedRefund""",
    "MoneyBag": "shopMoney presentmentMoney",
    "MailingAddress": """id address1 address2 city company country countryCodeV2 firstName lastName name phone
        province provinceCode zip""",
    "LineItem": """id title name variantTitle sku quantity currentQuantity vendor variant product
        originalUnitPriceSet discountedUnitPriceSet originalTotalSet unfulfilledQuantity refundableQuantity customAttributes
        requiresShipping""",
    "Fulfillment": """id legacyResourceId name status displayStatus createdAt updatedAt deliveredAt inTransitAt
        estimatedDeliveryAt trackingInfo events fulfillmentLineItems location order totalQuantity""",
    "FulfillmentLineItem": "id lineItem quantity",
    "FulfillmentOrder": """id status requestStatus fulfillAt fulfillBy assignedLocation lineItems createdAt
        updatedAt order fulfillmentHolds""",
    "FulfillmentHold": "id reason reasonNotes handle displayReason heldByRequestingApp",
    "FulfillmentOrderAssignedLocation": "name address1 address2 city countryCode province zip phone location",
    "FulfillmentOrderLineItem": """id sku productTitle variantTitle remainingQuantity totalQuantity lineItem
        variant inventoryItemId""",
    "Refund": "id legacyResourceId createdAt updatedAt processedAt note totalRefundedSet refundLineItems order",
    "RefundLineItem": "id lineItem quantity restockType restocked priceSet subtotalSet",
    "Customer": """id legacyResourceId firstName lastName displayName defaultEmailAddress defaultPhoneNumber
        email phone tags note numberOfOrders amountSpent createdAt updatedAt locale defaultAddress orders""",
    "CustomerEmailAddress": "emailAddress",
    "CustomerPhoneNumber": "phoneNumber",
    "Product": """id legacyResourceId title handle status vendor productType tags createdAt updatedAt
        publishedAt onlineStoreUrl options variants""",
    "ProductOption": "id name position values",
    "ProductVariant": """id legacyResourceId title sku barcode price compareAtPrice inventoryPolicy
        inventoryQuantity selectedOptions createdAt updatedAt inventoryItem product""",
    "SelectedOption": "name value",
    "InventoryItem": """id legacyResourceId sku tracked createdAt updatedAt inventoryLevels inventoryLevel
        variant variants""",
    "InventoryLevel": "id updatedAt item location quantities",
    "InventoryQuantity": "name quantity updatedAt",
    "Location": "id legacyResourceId name isActive fulfillsOnlineOrders address createdAt updatedAt",
    "LocationAddress": "address1 address2 city country countryCode phone province provinceCode zip",
    "WebhookSubscription": """id legacyResourceId topic uri callbackUrl format includeFields filter name
        metafieldNamespaces apiVersion createdAt updatedAt""",
    "ApiVersion": "handle displayName supported",
    "WebhookSubscriptionCreatePayload": "webhookSubscription userErrors",
    "WebhookSubscriptionUpdatePayload": "webhookSubscription userErrors",
    "WebhookSubscriptionDeletePayload": "deletedWebhookSubscriptionId userErrors",
    "BulkOperationRunQueryPayload": "bulkOperation userErrors",
    "BulkOperationCancelPayload": "bulkOperation userErrors",
    "Count": "count precision",
    "OrderCancelPayload": "job orderCancelUserErrors",
    "RefundCreatePayload": "order refund userErrors",
    "OrderUpdatePayload": "order userErrors",
    "FulfillmentOrderHoldPayload": "fulfillmentHold fulfillmentOrder remainingFulfillmentOrder userErrors",
    "FulfillmentOrderReleaseHoldPayload": "fulfillmentOrder userErrors",
    "TagsAddPayload": "node userErrors",
    "OrderInvoiceSendPayload": "order userErrors",
    "FulfillmentTrackingInfoUpdatePayload": "fulfillment userErrors",
    "SuggestedRefund": """amountSet maximumRefundableSet subtotalSet discountedSubtotalSet totalTaxSet
        refundLineItems shipping suggestedTransactions""",
    "SuggestedOrderTransaction": "amountSet maximumRefundableSet gateway kind parentTransaction",
    "OrderTransaction": "id kind gateway amountSet",
    "ShippingRefund": "amountSet maximumRefundableSet taxSet",
}


def named_type(type_node: TypeNode) -> str:
    while isinstance(type_node, ListTypeNode | NonNullTypeNode):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


class SchemaCutter:
    def __init__(self, reference: DocumentNode) -> None:
        self.reference = reference
        self.definitions: dict[str, DefinitionNode] = {}
        for definition in reference.definitions:
            name = getattr(definition, "name", None)
            if name is not None and not isinstance(definition, DirectiveDefinitionNode):
                self.definitions[name.value] = definition
        self.kept_fields: dict[str, list[FieldDefinitionNode]] = {}
        self.reached: set[str] = set()

    def is_leaf(self, type_name: str) -> bool:
        definition = self.definitions.get(type_name)
        return type_name in BUILT_IN_SCALARS or isinstance(
            definition, ScalarTypeDefinitionNode | EnumTypeDefinitionNode
        )

    def chosen_fields(
        self, name: str, definition: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode
    ) -> list[FieldDefinitionNode]:
        fields = list(definition.fields or ())
        if name in FIELDS:
            wanted = FIELDS[name].split()
            present = {field.name.value for field in fields}
            missing = [field for field in wanted if field not in present]
            if missing:
                raise SystemExit(f"{name} has no field(s) {missing} in the reference schema")
            return [field for field in fields if field.name.value in wanted]
        if name.endswith("Connection"):
            return [field for field in fields if field.name.value in {"edges", "nodes", "pageInfo"}]
        if name.endswith("Edge"):
            return [field for field in fields if field.name.value in {"cursor", "node"}]
        return [field for field in fields if self.is_leaf(named_type(field.type))]

    def reach(self, type_names: Iterable[str]) -> None:
        queue = list(type_names)
        while queue:
            name = queue.pop()
            if name in self.reached or name in BUILT_IN_SCALARS:
                continue
            self.reached.add(name)
            definition = self.definitions[name]
            if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                fields = self.chosen_fields(name, definition)
                self.kept_fields[name] = fields
                for field in fields:
                    queue.append(named_type(field.type))
                    queue.extend(named_type(arg.type) for arg in field.arguments or ())
            elif isinstance(definition, InputObjectTypeDefinitionNode):
                queue.extend(named_type(field.type) for field in definition.fields or ())
            elif isinstance(definition, UnionTypeDefinitionNode):
                raise SystemExit(f"union {name} reached: list the fields that lead to it explicitly")

    def cut(self) -> DocumentNode:
        directive_types = [
            named_type(arg.type)
            for definition in self.reference.definitions
            if isinstance(definition, DirectiveDefinitionNode)
            for arg in definition.arguments or ()
        ]
        self.reach(["QueryRoot", "Mutation", *INTERFACES, *directive_types])
        kept: list[DefinitionNode] = []
        for definition in self.reference.definitions:
            if isinstance(definition, SchemaDefinitionNode | DirectiveDefinitionNode):
                kept.append(definition)
                continue
            name = getattr(definition, "name", None)
            if name is None or name.value not in self.reached:
                continue
            kept.append(self.trimmed(name.value, definition))
        return DocumentNode(definitions=tuple(kept))

    def trimmed(self, name: str, definition: DefinitionNode) -> DefinitionNode:
        if not isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            return definition
        result = copy.copy(definition)
        fields = self.kept_fields[name]
        result.fields = tuple(fields)
        field_names = {field.name.value for field in fields}
        result.interfaces = tuple(
            interface
            for interface in definition.interfaces or ()
            if interface.name.value in INTERFACES
            and {field.name.value for field in self.kept_fields[interface.name.value]} <= field_names
        )
        return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    reference = parse(pathlib.Path(argv[1]).read_text(encoding="utf-8"), no_location=True)
    subset = SchemaCutter(reference).cut()
    header = (
        "# Subset of Shopify's Admin GraphQL schema, cut by devstore/schema/cut_schema.py. Do not edit.\n\n"
    )
    OUTPUT.write_text(header + print_ast(subset) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(subset.definitions)} definitions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
