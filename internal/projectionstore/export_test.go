package projectionstore

// FoldForTest renders a projection's fold over source.
func (s *Store) FoldForTest(name, source string) (string, error) {
	for _, d := range definitions() {
		if d.Name == name {
			return s.fold(d, source)
		}
	}
	return "", ErrUnknownProjection
}
