package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/sdk"
)

// Limits of Config.
const (
	MaxSubjects = 5_000_000 // phone numbers stay unique up to 7,000,000
	MaxMonths   = 120
)

// Config says how much to generate.
type Config struct {
	// Subjects is the number of people per profile (at least 1). Person 0
	// of every profile is its showcase: a customer in every segment who
	// does everything the profile describes at least once and is never
	// erased, so every declared practice shows up even in a small data set.
	Subjects int
	// Months is the length of the simulated window, ending at End.
	Months int
	// Seed makes the data set: the same seed gives the same events.
	Seed uint64
	// End is when the window ends; events happen before it. Required:
	// the generator reads no clock.
	End time.Time
}

// Validate reports every setting that cannot work, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Subjects < 1 || c.Subjects > MaxSubjects {
		errs = append(errs, fmt.Errorf("demo: Subjects %d must be between 1 and %d", c.Subjects, MaxSubjects))
	}
	if c.Months < 1 || c.Months > MaxMonths {
		errs = append(errs, fmt.Errorf("demo: Months %d must be between 1 and %d", c.Months, MaxMonths))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("demo: End is required (the generator reads no clock; pass time.Now() if that is what you mean)"))
	}
	return errors.Join(errs...)
}

// idSpace is the UUID namespace of generated event ids.
var idSpace = uuid.MustParse("6f1c2a3e-9d4b-5c7e-8a10-3b2d4e5f6a70")

// Generate simulates cfg.Subjects people per profile over cfg.Months
// months before cfg.End and passes every event to emit, in a fixed order:
// profile by profile as given, person by person, each person's events in
// time order. It stops at the first error of emit or when ctx is done.
// Profiles must have passed Validate.
//
// Event ids are name-based UUIDs of the seed, the number of months, the
// tenant, the person and the event's position in that person's life: they
// do not depend on End, so loading the same data set again, on another day
// too, sends the same ids and is recorded once. Times move with End.
func Generate(ctx context.Context, profiles []Profile, cfg Config, emit func(*sdk.Event) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	for i := range profiles {
		pl, err := compile(&profiles[i])
		if err != nil {
			return err
		}
		for n := range cfg.Subjects {
			if n%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := newPerson(pl, cfg, n, emit).live(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count returns how many events Generate would emit (it generates them).
func Count(ctx context.Context, profiles []Profile, cfg Config) (int64, error) {
	var n int64
	err := Generate(ctx, profiles, cfg, func(*sdk.Event) error { n++; return nil })
	return n, err
}

// ShowcaseEmail returns the email address of person 0 of profile p, the
// showcase who does everything the profile describes, for cfg's seed.
func ShowcaseEmail(p Profile, cfg Config) (string, error) {
	pl, err := compile(&p)
	if err != nil {
		return "", err
	}
	return newPerson(pl, cfg, 0, nil).email, nil
}

// personSeed derives the random stream of one person from the seed, the
// tenant and the person's number, so that people are independent of each
// other and of how many are generated.
func personSeed(seed uint64, months int, tenant string, n int) (uint64, uint64) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenant))
	return seed ^ uint64(months)<<48, h.Sum64() ^ uint64(n)*0x9e3779b97f4a7c15
}

// eventID is the id of a person's seq-th event.
func (pr *person) eventID() uuid.UUID {
	pr.seq++
	name := strconv.AppendUint(nil, pr.cfg.Seed, 10)
	name = append(name, '/')
	name = strconv.AppendInt(name, int64(pr.cfg.Months), 10)
	name = append(name, '/')
	name = append(name, pr.plan.p.Tenant...)
	name = append(name, '/')
	name = strconv.AppendInt(name, int64(pr.n), 10)
	name = append(name, '/')
	name = strconv.AppendInt(name, int64(pr.seq), 10)
	return uuid.NewSHA1(idSpace, name)
}

// exp draws the waiting time until the next event of a Poisson process
// with the given rate per Month, capped at limit (rare events may wait
// longer than a time.Duration can hold).
func exp(rng *rand.Rand, perMonth float64, limit time.Duration) time.Duration {
	wait := rng.ExpFloat64() / perMonth * float64(Month)
	if wait >= float64(limit) {
		return limit
	}
	return time.Duration(wait)
}

// between returns a uniform time in [from, to) rounded to the second.
func between(rng *rand.Rand, from, to time.Duration) time.Duration {
	if to <= from {
		return from
	}
	return (from + time.Duration(rng.Int64N(int64(to-from)))).Truncate(time.Second)
}
