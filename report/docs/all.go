package docs

// All is every generated block of the project's documents; the model
// checker runs once per configuration for all of them.
func All() []Block {
	k := newChecker()
	bs := append(modelBlocks(k), runBlocks(k)...)
	return append(bs, mechanismBlocks(&mechanismData{})...)
}
