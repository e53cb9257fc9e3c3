import pytest
from django.contrib.auth.models import Group, Permission

from api.services import api_client_create
from fulfillment.tests.factories import ShopFactory


@pytest.fixture
def shop():
    return ShopFactory(code="acme", pickup_address="文三路 90 号", pickup_province="浙江省", pickup_city="杭州市")


def make_client(django_user_model, *, name="erp", groups=("Warehouse",), perms=(), shops=(), write=True, read=True):
    user = django_user_model.objects.create_user(f"{name}-user", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    for shop in shops:
        shop.members.add(user)
    client, key = api_client_create(name=name, acts_as=user, can_read=read, can_write=write)
    return client, key


@pytest.fixture
def erp(django_user_model, shop):
    """A write client acting as a warehouse clerk limited to `shop`, who may also add orders."""
    return make_client(django_user_model, perms=("add_order",), shops=(shop,))


@pytest.fixture
def api(erp):
    from rest_framework.test import APIClient

    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {erp[1]}")
    return http
