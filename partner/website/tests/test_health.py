"""/health: the load balancer's probe, open to anonymous callers and free of database queries."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_health_answers_an_anonymous_probe_in_json_without_querying_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("website:health"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
