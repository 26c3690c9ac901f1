"""Importing the store's own words as answers, through the Support page API, from both
platforms' stand-ins in their real response shapes: Shopify's shop policies and pages
(Admin GraphQL), Saleor's published pages (Editor.js content). A re-import says what
changed; the merchant's own answers and switches are kept; a platform that cannot be
asked gets a clear error and nothing stored is lost."""

from __future__ import annotations

import pytest

from standins.saleor.content import add_page as saleor_page
from standins.saleor.content import paragraph, update_page
from standins.shopify import content
from tests.support.saleor import install as install_saleor
from tests.support.shops import SHOP, app_home, bearer

IMPORT = "/admin/api/answers/import"


@pytest.fixture
def shopify_shop(client, standin):
    content.enable_content(standin)
    content.set_policy(
        standin,
        SHOP,
        "REFUND_POLICY",
        "Refund policy",
        '<p>Return within <b>30 days</b>.</p><script>alert(1)</script><p><a href="javascript:x()">x</a></p>',
    )
    content.set_policy(standin, SHOP, "SHIPPING_POLICY", "Shipping policy", "<p>We ship in 1–2 working days.</p>")
    sizes = content.add_page(standin, SHOP, "Size guide", "<h2>Sizes</h2><ul><li>S: 36</li><li>M: 38</li></ul>")
    content.add_page(standin, SHOP, "Draft page", "<p>Not yet</p>", published=False)
    assert app_home(client, standin).status_code == 200  # installed by token exchange: a token the stand-in knows
    return sizes


def answers(client, headers) -> dict[str, dict]:
    listed = client.get("/admin/api/answers", headers=headers).get_json()["answers"]
    return {answer["question"]: answer for answer in listed}


def test_shopify_policies_and_published_pages_become_answers_with_the_policy_link(client, standin, shopify_shop):
    report = client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    assert report.status_code == 200, report.data
    body = report.get_json()
    assert sorted(body["added"]) == ["Refund policy", "Shipping policy", "Size guide"]
    assert (body["updated"], body["removed"], body["language"], body["platform"]) == ([], [], "en", "Shopify")

    stored = answers(client, bearer(standin))
    assert set(stored) == {"Refund policy", "Shipping policy", "Size guide"}  # the hidden page is not for shoppers
    refund = stored["Refund policy"]
    # Text only, links http(s) only: the script and the javascript: link are gone; the policy's page is linked.
    assert refund["answer"] == f"Return within 30 days.\n\nx\n\nhttps://{SHOP}/policies/refund-policy"
    assert (refund["source"], refund["source_id"], refund["language"]) == ("shopify_policy", "REFUND_POLICY", "en")
    assert stored["Size guide"]["answer"] == "Sizes\n\n• S: 36\n\n• M: 38"
    assert stored["Size guide"]["source_id"] == shopify_shop


def test_a_shopify_reimport_says_what_changed_and_keeps_the_merchants_own_work(client, standin, shopify_shop):
    client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    stored = answers(client, bearer(standin))
    # The merchant adds a phrasing to an imported answer, switches one off, and writes their own.
    client.put(
        f"/admin/api/answers/{stored['Shipping policy']['id']}",
        json={"alternatives": ["when will it ship"], "enabled": False},
        headers=bearer(standin),
    )
    own = client.post(
        "/admin/api/answers",
        json={"language": "en", "question": "Do you gift wrap?", "answer": "Yes, for 3 €."},
        headers=bearer(standin),
    )
    assert own.status_code == 201

    content.set_policy(standin, SHOP, "SHIPPING_POLICY", "Shipping policy", "<p>We ship the same day.</p>")
    content.set_policy(standin, SHOP, "REFUND_POLICY", "Refund policy", "")  # cleared in the Shopify admin
    content.add_page(standin, SHOP, "Care", "<p>Wash cold.</p>")
    report = client.post(IMPORT, json={"language": "en"}, headers=bearer(standin)).get_json()
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (
        ["Care"],
        ["Shipping policy"],
        ["Size guide"],
        ["Refund policy"],
    )

    after = answers(client, bearer(standin))
    assert set(after) == {"Shipping policy", "Size guide", "Care", "Do you gift wrap?"}
    shipping = after["Shipping policy"]
    assert shipping["answer"].startswith("We ship the same day.")
    assert (shipping["alternatives"], shipping["enabled"]) == (["when will it ship"], False)


def test_an_import_in_another_language_leaves_the_first_languages_answers(client, standin, shopify_shop):
    client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    report = client.post(IMPORT, json={"language": "et"}, headers=bearer(standin)).get_json()
    assert (len(report["added"]), report["removed"]) == (3, [])
    languages = sorted(
        a["language"] for a in client.get("/admin/api/answers", headers=bearer(standin)).get_json()["answers"]
    )
    assert languages == ["en"] * 3 + ["et"] * 3


def test_bad_import_requests_get_a_clear_400(client, standin, shopify_shop):
    for payload, code in (({"language": "english!"}, "invalid_language"), ([1, 2], "invalid_json")):
        response = client.post(IMPORT, json=payload, headers=bearer(standin))
        assert response.status_code == 400
        assert response.get_json()["error"] == code and response.get_json()["message"]


def test_shopify_down_is_a_503_and_keeps_what_was_imported(client, standin, shopify_shop):
    client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    standin.set_outage(SHOP, True)
    response = client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    standin.set_outage(SHOP, False)
    assert response.status_code == 503
    assert response.get_json()["error"] == "platform_unavailable"
    assert len(answers(client, bearer(standin))) == 3


@pytest.fixture
def saleor_headers(saleor):
    install_saleor(saleor)
    return {"Saleor-Api-Url": saleor.api_url, "Authorization": f"Bearer {saleor.mint_dashboard_token()}"}


def test_saleor_published_pages_become_answers_and_a_reimport_shows_the_change(client, saleor, saleor_headers):
    returns = saleor_page(
        saleor,
        "Returns",
        [
            {"type": "header", "data": {"text": "Returning an order", "level": 2}},
            paragraph('Send it back within <b>14 days</b>; see <a href="https://shop.example/returns">returns</a>.'),
            {"type": "list", "data": {"style": "unordered", "items": ["Unworn", "With tags"]}},
        ],
    )
    saleor_page(saleor, "Secret sale", [paragraph("Not yet")], published=False)
    report = client.post(IMPORT, json={"language": "pl"}, headers=saleor_headers)
    assert report.status_code == 200, report.data
    assert (report.get_json()["added"], report.get_json()["platform"]) == (["Returns"], "Saleor")
    stored = answers(client, saleor_headers)["Returns"]
    assert stored["answer"] == (
        "Returning an order\n\nSend it back within 14 days; see returns (https://shop.example/returns).\n\n"
        "• Unworn\n\n• With tags"
    )
    assert (stored["source"], stored["source_id"], stored["language"]) == ("saleor_page", returns, "pl")

    update_page(saleor, returns, blocks=[paragraph("Send it back within 30 days.")])
    again = client.post(IMPORT, json={"language": "pl"}, headers=saleor_headers).get_json()
    assert (again["added"], again["updated"], again["removed"]) == ([], ["Returns"], [])
    assert answers(client, saleor_headers)["Returns"]["answer"] == "Send it back within 30 days."


def test_a_token_without_the_new_scopes_is_told_to_approve_them(client, standin):
    # Installed before Parley asked for read_content and read_legal_policies: Shopify denies.
    content.enable_content(standin, enforce_scopes=True)
    content.set_policy(standin, SHOP, "REFUND_POLICY", "Refund policy", "<p>30 days.</p>")
    assert "read_content" not in standin.scopes
    assert app_home(client, standin).status_code == 200
    response = client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    assert response.status_code == 403
    assert response.get_json()["error"] == "missing_scope"
    assert "read_content, read_legal_policies" in response.get_json()["message"]


def test_with_the_scopes_approved_the_import_runs(client, standin):
    content.enable_content(standin, enforce_scopes=True)
    content.set_policy(standin, SHOP, "REFUND_POLICY", "Refund policy", "<p>30 days.</p>")
    standin.scopes += ",read_content,read_legal_policies"  # what the app's TOML now asks for
    assert app_home(client, standin).status_code == 200
    response = client.post(IMPORT, json={"language": "en"}, headers=bearer(standin))
    assert response.status_code == 200, response.data
    assert response.get_json()["added"] == ["Refund policy"]
