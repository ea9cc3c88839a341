package graphql

import (
	"context"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custodyhq/custody/internal/auth"
)

// hasRole is the @hasRole directive: the field needs a principal with the
// role, or admin. Every root field carries it, so a handler mounted
// without authentication serves nothing.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Role != auth.Admin && p.Role != role {
		return nil, newError(CodeForbidden, "token %q has role %s; this needs %s", p.Name, p.Role, role)
	}
	return next(ctx)
}

// guard refuses, before anything runs, what the principal may not do at
// all, with the HTTP status that says so: a mutation without the admin
// role (403), and introspection outside dev mode (403). The @hasRole
// directive checks each field again.
type guard struct {
	dev bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = guard{}

func (guard) ExtensionName() string                   { return "CustodyGuard" }
func (guard) Validate(graphql.ExecutableSchema) error { return nil }
func (g guard) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	refuse := func(code Code, status int, format string, args ...any) *gqlerror.Error {
		if st := stateFrom(ctx); st != nil {
			st.refuse(status)
		}
		return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": string(code)}}
	}
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return refuse(CodeUnauthenticated, http.StatusUnauthorized, "send Authorization: Bearer <token>")
	}
	if p.Role != auth.Admin && p.Role != auth.Analyst {
		return refuse(CodeForbidden, http.StatusForbidden, "token %q has role %s; GraphQL needs analyst or admin", p.Name, p.Role)
	}
	if op.Operation.Operation == ast.Mutation && p.Role != auth.Admin {
		return refuse(CodeForbidden, http.StatusForbidden, "token %q has role %s; mutations need admin", p.Name, p.Role)
	}
	if !g.dev && introspects(op.Doc, op.Operation.SelectionSet, map[string]bool{}) {
		return refuse(CodeForbidden, http.StatusForbidden, "introspection is disabled outside dev mode")
	}
	return nil
}

// introspects reports whether a root selection set asks for __schema or
// __type, through fragments too. (__typename is harmless and allowed.)
func introspects(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(doc, s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if f := doc.Fragments.ForName(s.Name); f != nil && introspects(doc, f.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}

// limits refuses operations that nest deeper than the depth limit (422,
// TOO_LARGE). The complexity limit is gqlgen's, wrapped to answer 422 too.
type limits struct {
	depth      int
	complexity graphql.OperationContextMutator
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*limits)(nil)

func (*limits) ExtensionName() string { return "CustodyLimits" }

func (l *limits) Validate(es graphql.ExecutableSchema) error {
	if v, ok := l.complexity.(graphql.HandlerExtension); ok {
		return v.Validate(es)
	}
	return nil
}

func (l *limits) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	tooLarge := func(err *gqlerror.Error) *gqlerror.Error {
		if st := stateFrom(ctx); st != nil {
			st.refuse(http.StatusUnprocessableEntity)
		}
		err.Extensions = map[string]any{"code": string(CodeTooLarge)}
		return err
	}
	if d := depth(op.Doc, op.Operation.SelectionSet, map[string]int{}); d > l.depth {
		return tooLarge(gqlerror.Errorf("operation nests %d levels deep, more than the limit of %d", d, l.depth))
	}
	if err := l.complexity.MutateOperationContext(ctx, op); err != nil {
		return tooLarge(err)
	}
	return nil
}

// depth is how deep a selection set nests: a leaf field is 1 level, and so
// is an introspection field, whatever it selects.
// Fragments count where they are spread, each walked once (memo): nested
// spreads cannot make the walk exponential. A fragment already being
// walked (a cycle, which validation refuses before this runs) adds nothing.
func depth(doc *ast.QueryDocument, set ast.SelectionSet, memo map[string]int) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			d = 1
			// Introspection nests ofType as deep as clients like (GraphiQL's
			// own query goes 13 levels), but each level is one field of the
			// query text and the schema's types are shallow; gqlparser's
			// MaxIntrospectionDepth rule bounds its lists, and it is only
			// served in dev mode.
			if s.Name != "__schema" && s.Name != "__type" {
				d += depth(doc, s.SelectionSet, memo)
			}
		case *ast.InlineFragment:
			d = depth(doc, s.SelectionSet, memo)
		case *ast.FragmentSpread:
			known, ok := memo[s.Name]
			if !ok {
				f := doc.Fragments.ForName(s.Name)
				if f == nil {
					continue
				}
				memo[s.Name] = 0 // being walked
				known = depth(doc, f.SelectionSet, memo)
				memo[s.Name] = known
			}
			d = known
		}
		deepest = max(deepest, d)
	}
	return deepest
}
