// SwiftPM needs one source file in a C target; the declarations live in include/.
