// Package embedded is the default transport of the ClickHouse port:
// ClickHouse in-process through chDB (package chdb), storing under a data
// directory that one process owns.
//
// Rows travel as RowBinary both ways (package rowbinary): results are
// decoded from RowBinaryWithNamesAndTypes, so every column's type is checked
// against its Go field, and inserts stream RowBinary encoded against the
// table's own column types. Nothing is parsed from text.
package embedded
