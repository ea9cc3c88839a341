package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// ErrUnknownProfile is returned by Select for a name no profile has.
var ErrUnknownProfile = errors.New("unknown demo profile")

// LoadAll reads every *.yaml file in the root of fsys as a profile and
// validates it against tax. A profile's file must be named after its
// tenant (ipcon.yaml holds tenant ipcon). Profiles are returned in file
// name order; every problem of every file is reported.
func LoadAll(fsys fs.FS, tax *taxonomy.Taxonomy) ([]Profile, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no profiles (*.yaml) found")
	}
	slices.Sort(names)
	var (
		out  []Profile
		errs []error
	)
	for _, name := range names {
		f, err := fsys.Open(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		p, err := LoadProfile(f)
		_ = f.Close() // read-only
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); p.Tenant != want {
			errs = append(errs, fmt.Errorf("%s: tenant %q must match the file name (%s.yaml holds tenant %s)", name, p.Tenant, want, want))
		}
		if err := p.Validate(tax); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Names returns the tenants of profiles, in order.
func Names(profiles []Profile) []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.Tenant
	}
	return out
}

// Select returns the profiles named by names ("all" or empty: every
// profile), in the order given. An unknown name is an error wrapping
// ErrUnknownProfile that lists the known ones.
func Select(profiles []Profile, names []string) ([]Profile, error) {
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return slices.Clone(profiles), nil
	}
	var out []Profile
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(profiles, func(p Profile) bool { return p.Tenant == n })
		switch {
		case i < 0:
			unknown = append(unknown, fmt.Sprintf("%q", n))
		case !slices.ContainsFunc(out, func(p Profile) bool { return p.Tenant == n }):
			out = append(out, profiles[i])
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w %s: known profiles are %s, or all", ErrUnknownProfile, strings.Join(unknown, ", "), strings.Join(Names(profiles), ", "))
	}
	return out, nil
}
