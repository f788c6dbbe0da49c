"""What support is doing for the shop: inquiries per order, honest automation, speed and satisfaction,
computed from our own tables.
"""
