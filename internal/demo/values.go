package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// pool holds the made-up names, places and formats of one country. Every
// name, street and company is fictional; coordinates are of real cities so
// that maps look right, jittered by a few kilometres.
type pool struct {
	first, last []string
	streets     []string
	cities      []city
	companies   []string
	currency    string
	country     string
}

type city struct {
	name, region, postcode string
	lat, lon               float64
}

// poolNames lists the pools Profile.Identity.Names may name.
func poolNames() []string { return []string{"my", "se", "us"} }

// poolFor returns the pool named key.
func poolFor(key string) (pool, bool) {
	switch key {
	case "us":
		return pool{
			first:     []string{"Maria", "James", "Aisha", "Daniel", "Sofia", "Michael", "Olivia", "Ethan", "Grace", "Noah", "Chloe", "Lucas", "Emma", "Diego", "Hannah", "Kevin", "Priya", "Samuel", "Leah", "Marcus"},
			last:      []string{"Lopez", "Smith", "Johnson", "Nguyen", "Garcia", "Brown", "Patel", "Miller", "Davis", "Kim", "Wilson", "Martinez", "Anderson", "Thomas", "Moore", "Jackson", "Lee", "Harris", "Clark", "Lewis"},
			streets:   []string{"Maple Ave", "Oak Street", "Cedar Lane", "Pine Road", "Elm Drive", "Sunset Blvd", "Lakeview Ct", "Willow Way", "Harbor St", "Hillcrest Rd"},
			cities:    []city{{"Long Beach", "CA", "908", 33.77, -118.19}, {"Austin", "TX", "787", 30.27, -97.74}, {"Portland", "OR", "972", 45.52, -122.68}, {"Denver", "CO", "802", 39.74, -104.99}, {"Columbus", "OH", "432", 39.96, -82.99}, {"Raleigh", "NC", "276", 35.78, -78.64}},
			companies: []string{"Contoso Ltd", "Fabrikam Inc", "Northwind Traders", "Tailspin Toys", "Wingtip Print Co", "Proseware Inc"},
			currency:  "USD", country: "US",
		}, true
	case "my":
		return pool{
			first:     []string{"Ahmad", "Nurul", "Wei Ling", "Siti", "Rajesh", "Mei Hua", "Hafiz", "Aina", "Kumar", "Farah", "Jun Hao", "Lakshmi"},
			last:      []string{"Abdullah", "Tan", "Lim", "Ibrahim", "Wong", "Ismail", "Raman", "Lee", "Hassan", "Chong", "Yusof", "Subramaniam"},
			streets:   []string{"Jalan Mawar", "Jalan Cempaka", "Jalan Teratai", "Lorong Seri", "Jalan Melati", "Persiaran Damai"},
			cities:    []city{{"Kuala Lumpur", "WP Kuala Lumpur", "5", 3.14, 101.69}, {"Petaling Jaya", "Selangor", "4", 3.11, 101.61}, {"George Town", "Pulau Pinang", "1", 5.41, 100.33}, {"Johor Bahru", "Johor", "8", 1.49, 103.74}},
			companies: []string{"Contoso Sdn Bhd", "Fabrikam Trading", "Northwind Solutions"},
			currency:  "MYR", country: "MY",
		}, true
	case "se":
		return pool{
			first:     []string{"Anna", "Erik", "Maja", "Lars", "Elsa", "Johan", "Sara", "Anders", "Karin", "Oskar", "Linnea", "Nils", "Ingrid", "Mikael"},
			last:      []string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson", "Lindqvist", "Berg"},
			streets:   []string{"Storgatan", "Kungsgatan", "Drottninggatan", "Sveavägen", "Vasagatan", "Hamngatan"},
			cities:    []city{{"Stockholm", "Stockholms län", "11", 59.33, 18.07}, {"Göteborg", "Västra Götaland", "41", 57.71, 11.97}, {"Malmö", "Skåne", "21", 55.60, 13.00}, {"Amsterdam", "Noord-Holland", "10", 52.37, 4.90}, {"München", "Bayern", "80", 48.14, 11.58}},
			companies: []string{"Contoso AB", "Fabrikam GmbH", "Northwind Logistik AB", "Tailspin BV", "Proseware Oy"},
			currency:  "SEK", country: "SE",
		}, true
	}
	return pool{}, false
}

// emailDomains are reserved for documentation (RFC 2606, RFC 6761).
func emailDomains() []string {
	return []string{"example.com", "example.net", "example.org", "mail.test"}
}

// pick returns a random element of list.
func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// hexString returns n random hex digits.
func hexString(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(strconv.FormatUint(rng.Uint64()|1<<63, 16)[1:])
	}
	return b.String()[:n]
}

// randomUUID returns a random (version 4 shaped) UUID string from rng.
func randomUUID(rng *rand.Rand) string {
	h := hexString(rng, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// generatedCategories are the categories the generator makes values for
// when an element gives none. Others are sent without a value.
func generatedCategories() []string {
	return []string{
		"identity.name", "identity.date_of_birth", "contact.email", "contact.business_email", "contact.phone",
		"contact.business_phone", "contact.postal_address", "contact.region", "commercial.shipping",
		"account.id", "account.username", "account.display_name",
		"online.ip_address", "online.cookie_id", "online.browsing_history", "online.website_interaction", "online.search_history",
		"device.identifier", "device.advertising_id", "device.browser", "device.info",
		"geolocation.coarse", "geolocation.precise",
		"commercial.transaction", "commercial.purchase_history", "commercial.marketplace_purchase",
		"financial.card_last_digits", "financial.card_expiry", "financial.payment_method",
		"professional.employer", "professional.job_title", "professional.company_details", "protected.age",
	}
}

func hasGeneratedValue(category string) bool {
	for _, c := range generatedCategories() {
		if c == category {
			return true
		}
	}
	return false
}

// value makes up the value of el for person pr: from el.Values if given,
// else from its category; ok is false when there is none to send. version
// counts corrections of the element, so a corrected value differs.
func (pr *person) value(el Element, version int) (any, bool) {
	rng := pr.rng
	if len(el.Values) > 0 {
		return pick(rng, el.Values), true
	}
	pl := pr.pool
	switch el.Category {
	case "identity.name":
		if version > 0 {
			return pr.first + " " + pr.last + "-" + pick(rng, pl.last), true
		}
		return pr.first + " " + pr.last, true
	case "identity.date_of_birth":
		return fmt.Sprintf("%d-%02d-%02d", 1950+pr.birth%50, 1+pr.birth%12, 1+pr.birth%28), true
	case "contact.email":
		return pr.email, true
	case "contact.business_email":
		return strings.ToLower(pr.first+"."+pr.last) + "@" + strings.ToLower(strings.Fields(pr.company(version))[0]) + ".test", true
	case "contact.phone", "contact.business_phone":
		return pr.phone, true
	case "contact.postal_address", "commercial.shipping":
		return pr.address(version), true
	case "contact.region":
		return pr.city(version).region, true
	case "account.id":
		return pr.accountID, true
	case "account.username":
		return strings.ToLower(pr.first) + strconv.Itoa(10+pr.birth%90), true
	case "account.display_name":
		if version > 0 {
			return pr.first + " " + pr.last, true
		}
		return pr.first + " " + pr.last[:1] + ".", true
	case "online.ip_address":
		return fmt.Sprintf("%s.%d", pick(rng, []string{"192.0.2", "198.51.100", "203.0.113"}), 1+rng.IntN(254)), true
	case "online.cookie_id":
		return pr.devices[pr.device].cookie, true
	case "online.browsing_history", "online.website_interaction":
		return pr.site + pick(rng, []string{"/", "/products", "/products/new", "/deals", "/cart", "/support", "/blog", "/account"}), true
	case "online.search_history":
		return pr.site + "/search?q=" + pick(rng, []string{"black+ink", "xl+cartridge", "bundle", "refill", "warranty", "shipping", "pricing", "integration"}), true
	case "device.identifier":
		return pr.devices[pr.device].id, true
	case "device.advertising_id":
		if ad := pr.devices[pr.device].adID; ad != "" {
			return ad, true
		}
		return nil, false
	case "device.browser":
		if pr.devices[pr.device].mobile {
			return "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) Mobile Safari/605.1", true
		}
		return pick(rng, []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/141.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 15_1) Safari/605.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/144.0"}), true
	case "device.info":
		if pr.devices[pr.device].mobile {
			return pick(rng, []string{"iPhone 16; iOS 19.1", "Pixel 10; Android 16", "Galaxy S25; Android 16"}), true
		}
		return pick(rng, []string{"Windows 11 desktop", "macOS 15 laptop", "Ubuntu 24.04 desktop"}), true
	case "geolocation.coarse":
		c := pr.city(version)
		return c.name + ", " + pl.country, true
	case "geolocation.precise":
		c := pr.city(version)
		return map[string]float64{"lat": round4(c.lat + (rng.Float64()-0.5)/20), "lon": round4(c.lon + (rng.Float64()-0.5)/20)}, true
	case "commercial.transaction", "commercial.purchase_history", "commercial.marketplace_purchase":
		return map[string]any{
			"order_id": fmt.Sprintf("O-%s", strings.ToUpper(hexString(rng, 8))),
			"items":    1 + rng.IntN(4),
			"total":    fmt.Sprintf("%d.%02d", 5+rng.IntN(300), rng.IntN(100)),
			"currency": pl.currency,
		}, true
	case "financial.card_last_digits":
		return pick(rng, []string{"4242", "0005", "4444", "1117"}), true // test-card endings
	case "financial.card_expiry":
		return fmt.Sprintf("%02d/%02d", 1+pr.birth%12, 27+pr.birth%5), true
	case "financial.payment_method":
		return pick(rng, []string{"visa", "mastercard", "amex", "paypal", "fpx"}), true
	case "professional.employer", "professional.company_details":
		return pr.company(version), true
	case "professional.job_title":
		titles := []string{"Operations Manager", "Purchasing Lead", "IT Director", "Supply Chain Analyst", "Office Manager", "Engineer"}
		return titles[(pr.birth+version)%len(titles)], true
	case "protected.age":
		return pick(rng, []string{"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}), true
	}
	return nil, false
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func (pr *person) city(version int) city {
	return pr.pool.cities[(pr.home+version)%len(pr.pool.cities)]
}

func (pr *person) company(version int) string {
	return pr.pool.companies[(pr.employer+version)%len(pr.pool.companies)]
}

// address renders a postal address in the pool's country; version moves
// the person house.
func (pr *person) address(version int) string {
	c := pr.city(version)
	house := 1 + (pr.birth*7+version*131)%980
	street := pr.pool.streets[(pr.home+version)%len(pr.pool.streets)]
	switch pr.pool.country {
	case "MY":
		return fmt.Sprintf("%d, %s, %s%04d %s, %s", house, street, c.postcode, 1000+house, c.name, c.region)
	case "SE":
		return fmt.Sprintf("%s %d, %s %03d %s", street, house, c.postcode, house%1000, c.name)
	}
	return fmt.Sprintf("%d %s, %s, %s %s%02d", house, street, c.name, c.region, c.postcode, house%100)
}
