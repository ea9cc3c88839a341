package identity

// Kind is the kind of an identifier, as sent in subject.identifiers[].kind.
type Kind string

// The identifier kinds of the event contract.
const (
	Email         Kind = "email"
	Phone         Kind = "phone"
	UserID        Kind = "user_id"
	CustomerID    Kind = "customer_id"
	AccountID     Kind = "account_id"
	DeviceID      Kind = "device_id"
	CookieID      Kind = "cookie_id"
	AdvertisingID Kind = "advertising_id" // IDFA or GAID
	External      Kind = "external"       // an id in another system; needs a namespace
)

// Kinds returns every identifier kind in a stable order.
func Kinds() []Kind {
	return []Kind{Email, Phone, UserID, CustomerID, AccountID, DeviceID, CookieID, AdvertisingID, External}
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case Email, Phone, UserID, CustomerID, AccountID, DeviceID, CookieID, AdvertisingID, External:
		return true
	}
	return false
}

// NeedsNamespace reports whether identifiers of kind k must name the system
// their value belongs to. Only External does; every other kind must not carry
// a namespace, since the namespace is part of the identifier's hash.
func (k Kind) NeedsNamespace() bool { return k == External }
