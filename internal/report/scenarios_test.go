package report

import (
	"testing"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/requests"
)

// scenario is one person of one of the five reference customers (seeds/),
// with a request to know or for access about them.
type scenario struct {
	name      string
	stream    *stream
	request   *requests.Request
	business  Business
	retention Retention
	generated string
	// secrets are values that must appear in no rendering: 11 CCR 7024(d)
	// items, and everything of a categories-only report.
	secrets []string
	// shown are values that must appear in the JSON.
	shown []string
}

func (sc scenario) input(t *testing.T) Input {
	t.Helper()
	w := DefaultWindow(sc.request.Jurisdiction, sc.request.ReceivedAt)
	return Input{Record: recordOf(t, sc.stream, w), Taxonomy: loadTaxonomy(t), Business: sc.business, Request: sc.request,
		Window: w, Retention: sc.retention, GeneratedAt: at(sc.generated)}
}

func scenarios(t *testing.T) []scenario {
	return []scenario{ipcon(t), ipmart(t), iptor(t), ipc(t), inkcartridges(t)}
}

// inkcartridges (004): a US retailer that sells identifiers and commercial
// information to advertising networks and data brokers, shares browsing
// data for targeted ads, discloses analytics for a business purpose, and
// takes card numbers. A CCPA request to know, verified for specific pieces.
func inkcartridges(t *testing.T) scenario {
	s := &stream{tenant: "inkcartridges", refs: []identity.Ref{ref(identity.Email, "jane@example.com"), ref(identity.CustomerID, "C-1009")}}
	adnet := event.Recipient{Name: "AdReach Networks", Kind: "advertising_network", Role: "third_party", Country: "US"}
	broker := event.Recipient{Name: "Acme Data Co.", Kind: "data_broker", Role: "third_party", Country: "US"}
	social := event.Recipient{Name: "Meta Platforms", Kind: "social_network", Role: "third_party", Country: "US"}
	analytics := event.Recipient{Name: "Google Analytics", Kind: "analytics_provider", Role: "service_provider", Country: "US"}
	payments := event.Recipient{Name: "Stripe", Kind: "payment_processor", Role: "service_provider", Country: "US"}

	// 13 months before the request: outside the default window.
	s.collected("2025-01-20", "consumer", "sweepstakes form", "promotions", purposes("marketing"),
		el("entry", "engagement.sweepstakes_entry", "Spring 2025 printer giveaway"), el("birth_date", "identity.date_of_birth", "1990-04-12"))
	s.collected("2025-06-10", "consumer", "checkout", "orders-db", purposes("order_fulfilment", "payment_processing"),
		el("name", "identity.name", "Jane Doe"), el("email", "contact.email", "jane@example.com"),
		el("address", "contact.postal_address", "6285 E. Spring Street, Long Beach, CA 90808"),
		el("card", "financial.card_number", "4111 1111 1111 1111"),
		el("order", "commercial.purchase_history", `{"order":"INK-1009","items":["HP 63XL black","HP 63 tri-color"]}`))
	s.collected("2025-06-10", "device", "inkcartridges.com", "web", purposes("analytics", "targeted_advertising"),
		el("ip", "online.ip_address", "203.0.113.7"), el("pages", "online.browsing_history", ""))
	s.shared("2025-06-10", payments, "business_purpose", purposes("payment_processing"),
		el("card", "financial.card_number", ""), el("name", "identity.name", ""))
	s.shared("2025-06-10", analytics, "business_purpose", purposes("analytics"),
		el("pages", "online.browsing_history", ""), el("ip", "online.ip_address", ""))
	s.add("2025-06-10", &event.Processed{Activity: "fraud_screening", Purposes: purposes("fraud_prevention"), System: "fraud",
		Inputs:  els(el("order", "commercial.purchase_history", ""), el("address", "contact.postal_address", ""), el("card", "financial.card_number", "")),
		Outputs: els(el("risk", "inference.risk_score", "12")),
		AutomatedDecision: &event.AutomatedDecision{Significant: true, Logic: "Each order gets a risk score from the order value, " +
			"whether the billing and shipping addresses match, and the card's country. Orders scoring above 80 are cancelled " +
			"automatically; you can ask for a person to review the decision."}})
	s.shared("2025-06-11", adnet, "sale", purposes("targeted_advertising"),
		el("email", "contact.email", ""), el("name", "identity.name", ""), el("order", "commercial.purchase_history", ""))
	s.shared("2025-06-12", broker, "sale", purposes("marketing"),
		el("name", "identity.name", ""), el("address", "contact.postal_address", ""), el("order", "commercial.purchase_history", ""))
	s.shared("2025-06-12", social, "sharing", purposes("targeted_advertising"),
		el("pages", "online.browsing_history", ""), el("ip", "online.ip_address", ""))
	s.add("2025-07-01", &event.Processed{Activity: "ink_preference_profiling", Purposes: purposes("personalization", "targeted_advertising"),
		System: "recs", Inputs: els(el("order", "commercial.purchase_history", "")),
		Outputs: els(el("prefs", "inference.preferences", "Prefers high-yield black cartridges"))})
	s.add("2025-09-15", &event.ConsentChanged{Choice: "sale", Status: event.OptedOut, Mechanism: "gpc", System: "web"})
	s.add("2025-09-15", &event.ConsentChanged{Choice: "marketing_email", Status: event.OptedIn, Mechanism: "form", System: "web"})
	s.add("2025-11-03", &event.Corrected{Elements: els(el("address", "contact.postal_address", "100 Ocean Blvd, Long Beach, CA 90802")), System: "orders-db"})
	s.collected("2025-12-01", "data_broker", "Acme Data Co.", "crm", purposes("marketing"), el("age_band", "protected.age", "35-44"))
	return scenario{
		name: "004_inkcartridges", stream: s,
		request:   requestFor(t, "inkcartridges", requests.CCPA, requests.TypeKnow, requests.LevelSpecificPieces, requests.LevelSpecificPieces, "2026-03-02"),
		business:  Business{Name: "Inkcartridges.com", Contact: "info@inkcartridges.com or 800-551-9954"},
		retention: Retention{Default: "Up to seven (7) years, then deleted"},
		generated: "2026-03-20",
		secrets:   []string{"4111 1111 1111 1111", "1990-04-12", "Spring 2025 printer giveaway"},
		shown:     []string{"Jane Doe", "100 Ocean Blvd, Long Beach, CA 90802", "INK-1009", "Prefers high-yield black cartridges"},
	}
}

// ipcon (000): an electronics maker with affiliates, resellers and single
// sign-on; an Oregon request to know (Oregon names recipients).
func ipcon(t *testing.T) scenario {
	s := &stream{tenant: "ipcon", refs: []identity.Ref{ref(identity.Email, "jane@example.com"), ref(identity.UserID, "ipcon-77")}}
	s.collected("2025-04-02", "social_network", "Google sign-in", "accounts", purposes("authentication", "account_management"),
		el("email", "contact.email", "jane@example.com"), el("token", "credentials.access_token", "ya29.a0AfH6SMBx-secret-token"))
	s.collected("2025-04-02", "consumer", "account sign-up", "accounts", purposes("account_management"),
		el("username", "account.username", "janed"), el("display_name", "account.display_name", "Jane D."),
		el("password", "credentials.password", "hunter2-Secret!"))
	s.collected("2025-05-20", "consumer", "IPCON Store", "store", purposes("order_fulfilment", "payment_processing"),
		el("order", "commercial.purchase_history", "IPCON Tab 11 Pro, 256 GB"), el("address", "contact.postal_address", "12 Elm St, Portland, OR 97201"),
		el("card_last4", "financial.card_last_digits", "4242"))
	s.collected("2025-05-25", "device", "IPCON Tab 11 Pro", "telemetry", purposes("product_improvement", "bp.debugging"),
		el("crash_log", "device.diagnostics", "kernel panic in camera service"), el("model", "device.info", "Tab 11 Pro, firmware 4.2.1"))
	s.collected("2025-07-01", "consumer", "post-purchase survey", "surveys", purposes("research"),
		el("answer", "engagement.survey_response", "Very satisfied"))
	s.shared("2025-05-20", event.Recipient{Name: "IPCON Technology Co., Ltd.", Kind: "affiliate", Role: "affiliate", Country: "CN"},
		"business_purpose", purposes("service_delivery"), el("order", "commercial.purchase_history", ""), el("email", "contact.email", ""))
	s.shared("2025-05-21", event.Recipient{Name: "TechMart Resellers", Kind: "reseller", Role: "service_provider", Country: "US"},
		"business_purpose", purposes("order_fulfilment"), el("order", "commercial.purchase_history", ""), el("address", "contact.postal_address", ""))
	s.add("2025-08-10", &event.ConsentChanged{Choice: "marketing_email", Status: event.Withdrawn, Mechanism: "email_link"})
	return scenario{
		name: "000_ipcon", stream: s,
		request:  requestFor(t, "ipcon", requests.Oregon, requests.TypeKnow, requests.LevelSpecificPieces, requests.LevelSpecificPieces, "2026-02-16"),
		business: Business{Name: "IPCON", Contact: "privacy@ipconportal.example"},
		retention: Retention{Periods: map[string]string{
			"financial":                  "As long as financial regulations require (typically 5 to 7 years)",
			"commercial":                 "As long as financial regulations require (typically 5 to 7 years)",
			"account":                    "While your account is active and for up to 2 years after it is closed",
			"credentials":                "While your account is active and for up to 2 years after it is closed",
			"contact.email":              "While your account is active and for up to 2 years after it is closed",
			"engagement.survey_response": "Until you withdraw consent or opt out, and for up to 6 months after",
		}},
		generated: "2026-02-27",
		secrets:   []string{"ya29.a0AfH6SMBx-secret-token", "hunter2-Secret!"},
		shown:     []string{"janed", "IPCON Tab 11 Pro, 256 GB", "kernel panic in camera service"},
	}
}

// ipmart (001): a Malaysian web shop whose payment gateway passes order
// details on; an access request under the PDPA.
func ipmart(t *testing.T) scenario {
	s := &stream{tenant: "ipmart", refs: []identity.Ref{ref(identity.Email, "siti@example.my")}}
	s.collected("2025-10-02", "service_provider", "Global Collect", "orders", purposes("order_fulfilment", "billing"),
		el("name", "identity.name", "Siti Aminah"), el("address", "contact.postal_address", "22 Jalan Imbi, 55100 Kuala Lumpur"),
		el("email", "contact.email", "siti@example.my"))
	s.collected("2025-10-03", "consumer", "order verification", "orders", purposes("identity_verification", "fraud_prevention"),
		el("statement", "financial.account_statement", "Maybank statement Sept 2025, account 1140-2233-9981"),
		el("ic_copy", "government_id.document_copy", "MyKad 900412-14-5566"))
	s.shared("2025-10-04", event.Recipient{Name: "Pos Laju", Kind: "service_provider", Role: "service_provider", Country: "MY"},
		"business_purpose", purposes("order_fulfilment"), el("name", "identity.name", ""), el("address", "contact.postal_address", ""))
	s.add("2025-10-02", &event.ConsentChanged{Choice: "marketing_email", Status: event.OptedIn, Mechanism: "form"})
	s.add("2025-12-24", &event.ConsentChanged{Choice: "marketing_email", Status: event.OptedOut, Mechanism: "email_link"})
	return scenario{
		name: "001_ipmart", stream: s,
		request:   requestFor(t, "ipmart", requests.Malaysia, requests.TypeAccess, "", requests.LevelSpecificPieces, "2026-01-12"),
		business:  Business{Name: "I-Pmart Network (M) Sdn Bhd", Contact: "support@ipmart.com.my"},
		generated: "2026-01-20",
		secrets:   []string{"1140-2233-9981", "900412-14-5566"},
		shown:     []string{"Siti Aminah", "22 Jalan Imbi, 55100 Kuala Lumpur"},
	}
}

// iptor (002): a Swedish B2B software vendor; a GDPR access request from a
// customer's employee.
func iptor(t *testing.T) scenario {
	s := &stream{tenant: "iptor", refs: []identity.Ref{ref(identity.Email, "jane.doe@example.se")}}
	s.collected("2024-11-05", "consumer", "contact form", "hubspot", purposes("marketing", "customer_support"),
		el("work_email", "contact.business_email", "jane.doe@example.se"), el("name", "identity.name", "Jane Doe"),
		el("title", "professional.job_title", "Supply Chain Manager"), el("employer", "professional.employer", "Nordic Retail AB"))
	s.collected("2025-09-10", "device", "iptor.com", "web", purposes("analytics"),
		el("ga_cookie", "online.cookie_id", "GA1.2.1234567890.1757500000"), el("visits", "online.website_interaction", ""))
	s.collected("2025-10-01", "consumer", "event sign-up", "events", purposes("marketing"),
		el("event", "engagement.event_registration", "Iptor Connect 2025, Stockholm"))
	s.shared("2024-11-05", event.Recipient{Name: "HubSpot, Inc.", Kind: "service_provider", Role: "service_provider", Country: "US"},
		"business_purpose", purposes("marketing"), el("work_email", "contact.business_email", ""), el("name", "identity.name", ""),
		el("employer", "professional.employer", ""))
	s.shared("2025-09-10", event.Recipient{Name: "Google Ireland Limited", Kind: "analytics_provider", Role: "service_provider", Country: "IE"},
		"business_purpose", purposes("analytics"), el("ga_cookie", "online.cookie_id", ""), el("visits", "online.website_interaction", ""))
	s.shared("2025-10-02", event.Recipient{Name: "Iptor Supply Chain Systems India Pvt Ltd", Kind: "affiliate", Role: "affiliate", Country: "IN"},
		"business_purpose", purposes("customer_support"), el("name", "identity.name", ""), el("work_email", "contact.business_email", ""))
	s.add("2025-10-05", &event.Processed{Activity: "lead_scoring", Purposes: purposes("marketing"), System: "hubspot",
		Inputs:            els(el("visits", "online.website_interaction", ""), el("title", "professional.job_title", "")),
		Outputs:           els(el("segment", "inference.segment", "Warm lead")),
		AutomatedDecision: &event.AutomatedDecision{Logic: "Scores your interest from the pages you visited and your job title, to choose which newsletter you receive."}})
	s.add("2025-10-01", &event.ConsentChanged{Choice: "marketing_email", Status: event.Granted, Mechanism: "form"})
	return scenario{
		name: "002_iptor", stream: s,
		request:   requestFor(t, "iptor", requests.GDPR, requests.TypeAccess, "", requests.LevelSpecificPieces, "2026-01-31"),
		business:  Business{Name: "Iptor Sweden AB", Contact: "privacy@iptor.example"},
		retention: Retention{Default: "As long as your account is active or as needed to provide our services, then deleted"},
		generated: "2026-02-20",
		shown:     []string{"Supply Chain Manager", "Nordic Retail AB", "Warm lead", "Iptor Connect 2025, Stockholm"},
	}
}

// ipc (003): a meetings and messaging platform; a CCPA request for specific
// pieces verified only to the categories standard, so the report lists
// categories only.
func ipc(t *testing.T) scenario {
	s := &stream{tenant: "ipc", refs: []identity.Ref{ref(identity.Email, "sam@example.com"), ref(identity.AccountID, "ipc-5150")}}
	s.collected("2025-05-01", "consumer", "sign-up", "accounts", purposes("account_management"),
		el("email", "contact.email", "sam@example.com"), el("display_name", "account.display_name", "Sam Rivera"), el("account", "account.id", "ipc-5150"))
	s.collected("2025-06-03", "consumer", "meetings", "meetings", purposes("service_delivery"),
		el("meeting", "communications.meeting_metadata", `{"meeting":"9981-22","minutes":47}`),
		el("chat", "communications.chat_message", "Lunch at noon? Bring the contract draft."),
		el("recording", "audio_visual.meeting_recording", "rec-9981-22.mp4"))
	s.collected("2025-06-03", "device", "IPC desktop app", "telemetry", purposes("analytics", "targeted_advertising"),
		el("ad_id", "device.advertising_id", "38400000-8cf0-11bd-b23e-10b96e40000d"), el("cookie", "online.cookie_id", "ipc_c_77aa"))
	s.shared("2025-06-04", event.Recipient{Name: "AdTech Partners LLC", Kind: "advertising_network", Role: "third_party", Country: "US"},
		"sharing", purposes("targeted_advertising"), el("ad_id", "device.advertising_id", ""), el("cookie", "online.cookie_id", ""))
	s.shared("2025-06-03", event.Recipient{Name: "CloudHost Inc.", Kind: "service_provider", Role: "service_provider", Country: "US"},
		"business_purpose", purposes("service_delivery"), el("recording", "audio_visual.meeting_recording", ""),
		el("meeting", "communications.meeting_metadata", ""))
	s.shared("2025-08-19", event.Recipient{Name: "Superior Court of California", Kind: "government", Role: "third_party", Country: "US"},
		"legal_requirement", purposes("legal_compliance"), el("meeting", "communications.meeting_metadata", ""))
	s.add("2025-07-01", &event.ConsentChanged{Choice: "sharing", Status: event.OptedOut, Mechanism: "gpc"})
	s.add("2025-07-02", &event.Erased{Elements: els(el("chat", "communications.chat_message", "")), Reason: "consumer_request",
		System: "meetings", RequestID: "r-2025-0077"})
	return scenario{
		name: "003_ipc", stream: s,
		request:   requestFor(t, "ipc", requests.CCPA, requests.TypeKnow, requests.LevelSpecificPieces, requests.LevelCategories, "2026-01-05"),
		business:  Business{Name: "IPC", Contact: "privacy@ipc.example"},
		retention: Retention{Default: "As long as needed for the uses described in our privacy policy, unless the law requires longer"},
		generated: "2026-01-15",
		secrets:   []string{"Sam Rivera", "9981-22", "rec-9981-22.mp4", "38400000-8cf0-11bd-b23e-10b96e40000d", "ipc_c_77aa", "Lunch at noon"},
	}
}
