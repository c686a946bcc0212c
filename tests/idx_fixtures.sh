# Shell helpers that write small IDX data sets (sourced by the command-line tests).
# They need only printf, head, tr and gzip, so the tests run wherever the chapters build.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# images FILE N ROWS COLS: an IDX image file whose pixels are all 0x80
images() { { printf '\x00\x00\x08\x03'; be32 "$2"; be32 "$3"; be32 "$4"; head -c $(($2 * $3 * $4)) /dev/zero | tr '\0' '\200'; } >"$1"; }
# labels FILE N [LABEL_FOR_LAST]: an IDX label file with labels i % 10
labels() {
  { printf '\x00\x00\x08\x01'; be32 "$2"
    for ((i = 0; i < $2 - 1; i++)); do printf "\\x0$((i % 10))"; done
    printf "\\x$(printf %02x "${3:-$((($2 - 1) % 10))}")"; } >"$1"
}
# good DIR: a tiny valid data set (plain train files, gzipped test files)
good() {
  mkdir -p "$1"
  images "$1/train-images-idx3-ubyte" 40 28 28; labels "$1/train-labels-idx1-ubyte" 40
  images "$1/t10k-images-idx3-ubyte" 20 28 28; labels "$1/t10k-labels-idx1-ubyte" 20
  gzip "$1/t10k-images-idx3-ubyte" "$1/t10k-labels-idx1-ubyte"
}

