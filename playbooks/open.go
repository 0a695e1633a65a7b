package playbooks

// Open returns the built-in playbooks with those of dir on top; dir ""
// means the built-in ones alone.
func Open(dir string) (*Set, error) {
	set, err := Default()
	if err != nil || dir == "" {
		return set, err
	}
	return Load(dir, set)
}
