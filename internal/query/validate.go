package query

// validate checks every field clause against its field: a valid field
// name, and values of the field's type (a number for a port, a time for
// @timestamp). Compile and Match make the same checks.
func validate(n Node) error {
	switch x := n.(type) {
	case *And:
		return validateAll(x.Nodes)
	case *Or:
		return validateAll(x.Nodes)
	case *Not:
		return validate(x.Node)
	case *Term:
		if x.Field == "" {
			return nil
		}
		if msg := checkField(x.Field); msg != "" {
			return leafError(x.Pos, x.Field, msg)
		}
		if _, msg := planTerm(resolve(x.Field), x.Value); msg != "" {
			return leafError(x.Pos, x.Value, msg)
		}
	case *Wildcard:
		if x.Field == "" {
			return nil
		}
		if msg := checkField(x.Field); msg != "" {
			return leafError(x.Pos, x.Field, msg)
		}
		if msg := planWildcard(resolve(x.Field)); msg != "" {
			return leafError(x.Pos, x.Pattern, msg)
		}
	case *Exists:
		if msg := checkField(x.Field); msg != "" {
			return leafError(x.Pos, x.Field, msg)
		}
	case *Range:
		if msg := checkField(x.Field); msg != "" {
			return leafError(x.Pos, x.Field, msg)
		}
		if _, msg, found := planRange(resolve(x.Field), x); msg != "" {
			return leafError(x.Pos, found, msg)
		}
	}
	return nil
}

func validateAll(nodes []Node) error {
	for _, c := range nodes {
		if err := validate(c); err != nil {
			return err
		}
	}
	return nil
}
