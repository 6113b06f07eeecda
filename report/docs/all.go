package docs

// All is every generated block of the project's documents.
func All() []Block {
	return ModelBlocks()
}
