from django.conf import settings


def supplier(request):
    return {"supplier": settings.SUPPLIER}
