// Package report renders friendly-vm results for people: a document of
// headed sections with paragraphs, tables and plots, written as Markdown and
// as a self-contained HTML page, and line plots (gonum/plot) of time series.
package report
