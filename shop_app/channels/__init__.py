"""Where shoppers reach the desk: the storefront widget."""
