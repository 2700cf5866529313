class Order:
    objects = None


class Payment:
    objects = None
