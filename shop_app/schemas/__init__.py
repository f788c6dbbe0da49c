"""The API's input and output shapes (pydantic): requests are validated by them and the OpenAPI document
is built from them."""
