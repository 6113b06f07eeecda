package docs

// All is every generated block of the project's documents; the model
// checker runs once per configuration for all of them.
func All() []Block {
	k := newChecker()
	bs := append(append(modelBlocks(k), runBlocks(k)...), FriendlyBlocks()...)
	return append(bs, mechanismBlocks(&mechanismData{})...)
}
