package event

import "fmt"

// NewData returns an empty payload of the Go type that carries t's data,
// for decoding stored events (the log keeps data as its JSON form).
func NewData(t Type) (Data, error) {
	switch t {
	case TypeCollected:
		return &Collected{}, nil
	case TypeShared:
		return &Shared{}, nil
	case TypeProcessed:
		return &Processed{}, nil
	case TypeTransferred:
		return &Transferred{}, nil
	case TypeCorrected:
		return &Corrected{}, nil
	case TypeErased:
		return &Erased{}, nil
	case TypeConsentChanged:
		return &ConsentChanged{}, nil
	case TypeSubjectLinked:
		return &Linked{}, nil
	}
	if t == TypeAccessRecorded {
		return &Access{}, nil
	}
	if t.Internal() && t.Known() {
		return &Request{}, nil
	}
	return nil, fmt.Errorf("event: unknown type %q", t)
}
