// Package fold normalizes text for keyword matching: lower case, Latin
// diacritics removed, so that "Contraseña", "CONTRASENA" and "contraseña"
// compare equal. It is a small table for the Latin letters used in Spanish,
// Portuguese, English and their neighbours, not a general Unicode
// normalizer.
package fold
