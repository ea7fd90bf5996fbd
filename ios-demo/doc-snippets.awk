# Prints the ```swift blocks of Markdown files, each after a line naming its file and line; a
# block right after a line `<!-- not compiled ... -->` is left out (a Package.swift fragment).
/^```swift[[:space:]]*$/ {
  if (previous ~ /^<!-- not compiled/) { skipping = 1; next }
  inside = 1; printf "// %s:%d\n", FILENAME, FNR; next
}
/^```[[:space:]]*$/ { if (inside || skipping) { inside = 0; skipping = 0; print ""; next } }
inside { print; next }
NF { previous = $0 }
