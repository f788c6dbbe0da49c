"""Query cost by Shopify's rules.

Requested cost, from the document before running it: a scalar or enum field costs 0, an object 1 plus
its selection, a connection 2 plus `first` (or `last`) times the cost of one node's selection (its
`edges { node }` and `nodes`, each node an object costing 1), nested multiplicatively; a plain list of
objects costs like one object; an interface or union the most expensive of its fragments; each mutation
field 10. Actual cost is the same walk over the data really returned: a connection costs 2 plus the
sum over the nodes it returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.type import GraphQLInterfaceType, GraphQLUnionType

MUTATION_COST = 10
MAX_QUERY_COST = 1000

CompositeType = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


def is_connection(type_: object) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection")


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def operation_cost(
        self, operation: OperationDefinitionNode, data: Mapping[str, Any] | None = None
    ) -> int:
        """Requested cost when `data` is None, else the actual cost of `data`."""
        if operation.operation == OperationType.MUTATION:
            return MUTATION_COST * len(self._fields(operation.selection_set, None))
        root = self.schema.query_type
        assert root is not None
        if data is None:
            return self.requested(operation.selection_set, root)
        return self.actual(operation.selection_set, root, data)

    def _argument(self, field: FieldNode, name: str) -> object:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, dict(self.variables))
        return None

    def page_size(self, field: FieldNode) -> int:
        for name in ("first", "last"):
            value = self._argument(field, name)
            if isinstance(value, int):
                return max(value, 0)
        return 0

    def _fields(self, selection_set: SelectionSetNode | None, type_: CompositeType | None) -> list[FieldNode]:
        """Fields selected on `type_`, fragments inlined (all of them when `type_` is None)."""
        result: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                result.append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition.name.value if selection.type_condition else None
                inner = selection.selection_set
            if type_ is None or condition is None or self._applies(condition, type_):
                result.extend(self._fields(inner, type_))
        return result

    def _applies(self, condition: str, type_: CompositeType) -> bool:
        if condition == type_.name:
            return True
        condition_type = self.schema.get_type(condition)
        if isinstance(condition_type, GraphQLInterfaceType | GraphQLUnionType) and isinstance(
            type_, GraphQLObjectType
        ):
            return self.schema.is_sub_type(condition_type, type_)
        return False

    def _possible(self, type_: CompositeType) -> Sequence[GraphQLObjectType]:
        if isinstance(type_, GraphQLObjectType):
            return [type_]
        return self.schema.get_possible_types(type_)

    def _field_type(self, parent: CompositeType, field: FieldNode) -> Any:
        if isinstance(parent, GraphQLUnionType) or field.name.value.startswith("__"):
            return None
        definition = parent.fields.get(field.name.value)
        return None if definition is None else get_named_type(definition.type)

    # requested

    def requested(self, selection_set: SelectionSetNode | None, parent: CompositeType) -> int:
        costs = [
            sum(self._requested_field(field, concrete) for field in self._fields(selection_set, concrete))
            for concrete in self._possible(parent)
        ]
        return max(costs, default=0)

    def _requested_field(self, field: FieldNode, parent: CompositeType) -> int:
        type_ = self._field_type(parent, field)
        if type_ is None or is_leaf_type(type_):
            return 0
        if is_connection(type_):
            return 2 + self.page_size(field) * self._requested_node(field, type_)
        return 1 + self.requested(field.selection_set, type_)

    def _requested_node(self, field: FieldNode, connection: GraphQLObjectType) -> int:
        total = 0
        for child in self._fields(field.selection_set, connection):
            name = child.name.value
            if name == "nodes":
                total += 1 + self.requested(
                    child.selection_set, get_named_type(connection.fields["nodes"].type)
                )
            elif name == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge, GraphQLObjectType)
                for edge_field in self._fields(child.selection_set, edge):
                    if edge_field.name.value == "node":
                        node_type = get_named_type(edge.fields["node"].type)
                        total += 1 + self.requested(edge_field.selection_set, node_type)
        return total

    # actual

    def actual(
        self, selection_set: SelectionSetNode | None, parent: CompositeType, data: Mapping[str, Any]
    ) -> int:
        concrete = self._concrete(parent, data)
        total = 0
        for field in self._fields(selection_set, concrete):
            key = field.alias.value if field.alias else field.name.value
            if key not in data:
                continue
            total += self._actual_field(field, concrete, data[key])
        return total

    def _concrete(self, parent: CompositeType, data: Mapping[str, Any]) -> CompositeType:
        if isinstance(parent, GraphQLObjectType):
            return parent
        typename = data.get("__typename")
        if isinstance(typename, str) and isinstance(self.schema.get_type(typename), GraphQLObjectType):
            return self.schema.get_type(typename)  # type: ignore[return-value]
        possible = self._possible(parent)
        return possible[0] if len(possible) == 1 else parent

    def _actual_field(self, field: FieldNode, parent: CompositeType, value: Any) -> int:
        type_ = self._field_type(parent, field)
        if type_ is None or is_leaf_type(type_):
            return 0
        if is_connection(type_):
            return 2 + self._actual_nodes(field, type_, value)
        if isinstance(value, list):
            return 1 + sum(
                self.actual(field.selection_set, type_, item) for item in value if isinstance(item, dict)
            )
        if isinstance(value, dict):
            return 1 + self.actual(field.selection_set, type_, value)
        return 1

    def _actual_nodes(self, field: FieldNode, connection: GraphQLObjectType, value: Any) -> int:
        if not isinstance(value, dict):
            return 0
        total = 0
        for child in self._fields(field.selection_set, connection):
            key = child.alias.value if child.alias else child.name.value
            items = value.get(key)
            if not isinstance(items, list):
                continue
            if child.name.value == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                total += sum(
                    1 + self.actual(child.selection_set, node_type, item)
                    for item in items
                    if isinstance(item, dict)
                )
            elif child.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge, GraphQLObjectType)
                node_type = get_named_type(edge.fields["node"].type)
                for edge_value in items:
                    if not isinstance(edge_value, dict):
                        continue
                    for edge_field in self._fields(child.selection_set, edge):
                        node_key = edge_field.alias.value if edge_field.alias else edge_field.name.value
                        node = edge_value.get(node_key)
                        if edge_field.name.value == "node" and isinstance(node, dict):
                            total += 1 + self.actual(edge_field.selection_set, node_type, node)
        return total
