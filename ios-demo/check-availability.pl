#!/usr/bin/env perl
# Availability lint for the Apple-only sources (ios-demo/check-apple-sources.sh runs it).
#
# On Linux `@available(iOS 17…)` is inert: the compiler type-checks for Linux, so an iOS 17 API
# called from code that also runs on iOS 16 passes here and fails only in Xcode. This lint reads
# the declarations marked `@available(iOS X…)` (introduced in X) in the given symbol files (the
# stand-ins of Apple's frameworks, and Passerelle's own sources for its iOS 17 types such as
# PasserelleModel) plus Observation's (`@Observable`, `withObservationTracking`: iOS 17, from the
# toolchain rather than a stand-in), and reports each use, in the checked sources, of a symbol
# newer than the floor outside a scope that guarantees it: `if #available(iOS X, *) { … }`,
# `guard #available(iOS X, *)`, or a declaration marked `@available(iOS X…)`.
#
#   check-availability.pl --floor 16.0 --symbols FILE... --sources FILE...
#
# Exits 1 naming each unguarded use (file:line: symbol needs iOS X, the floor is iOS F).
# It reads Swift line by line (comments and string literals removed, braces counted): a lint,
# not a compiler; what it cannot see (a symbol reached through a type alias) stays Xcode's.
use strict;
use warnings;

my ($floor, @symbol_files, @sources, $list);
while (@ARGV) {
    my $arg = shift @ARGV;
    if ($arg eq '--floor') { $floor = shift @ARGV }
    elsif ($arg eq '--symbols') { $list = \@symbol_files }
    elsif ($arg eq '--sources') { $list = \@sources }
    elsif ($list) { push @$list, $arg }
    else { die "usage: $0 --floor 16.0 --symbols FILE... --sources FILE...\n" }
}
die "usage: $0 --floor 16.0 --symbols FILE... --sources FILE...\n" unless defined $floor && @sources;

sub version { my ($v) = @_; my @p = split /\./, $v; return ($p[0] // 0) * 10000 + ($p[1] // 0) * 100 + ($p[2] // 0) }

# Removes comments and the contents of string literals, keeping interpolations out of reach.
my $in_block_comment = 0;
sub code_of {
    my ($line) = @_;
    if ($in_block_comment) {
        return '' unless $line =~ s/^.*?\*\///;
        $in_block_comment = 0;
    }
    $line =~ s/"(?:[^"\\]|\\.)*"/""/g;
    $line =~ s/\/\*.*?\*\///g;
    if ($line =~ s/\/\*.*$//) { $in_block_comment = 1 }
    $line =~ s/\/\/.*$//;
    return $line;
}

# The iOS version an availability attribute or condition requires, if it names one.
sub ios_version {
    my ($code) = @_;
    return $1 if $code =~ /[@#]available\s*\(\s*iOS\s+(\d+(?:\.\d+)*)/;
    return $1 if $code =~ /\@available\s*\(\s*iOS\s*,[^)]*introduced:\s*(\d+(?:\.\d+)*)/;
    return undef;
}

# name => { version, pattern, where }
my %symbols = (
    'Observable' => { version => '17.0', pattern => qr/\@Observable\b/, where => 'Observation' },
    'withObservationTracking' => { version => '17.0', pattern => qr/\bwithObservationTracking\s*\(/, where => 'Observation' },
);

for my $file (@symbol_files) {
    open my $fh, '<', $file or die "$file: $!\n";
    my ($pending, @types);
    my $depth = 0;
    $in_block_comment = 0;
    while (my $raw = <$fh>) {
        my $code = code_of($raw);
        if (defined(my $v = ios_version($code)) && $code =~ /\@available/) {
            $pending = $v if version($v) > version($floor);
            next unless $code =~ /\b(?:class|struct|enum|protocol|actor|func|init|var|let|typealias)\b/;
        }
        if ($code =~ /\b(?:class|struct|enum|protocol|actor|extension)\s+([A-Za-z_]\w*)/) {
            my $type = $1;
            push @types, [$type, $depth] if $code =~ /\{/;
            if (defined $pending && $code !~ /\bextension\b/) {
                $symbols{$type} = { version => $pending, pattern => qr/\b\Q$type\E\b/, where => "$file:$." };
            }
            undef $pending;
        } elsif (defined $pending && $code =~ /\bfunc\s+([A-Za-z_]\w*)/) {
            $symbols{$1} = { version => $pending, pattern => qr/\b\Q$1\E\s*\(/, where => "$file:$." };
            undef $pending;
        } elsif (defined $pending && $code =~ /\b(?:var|let)\s+([A-Za-z_]\w*)/) {
            $symbols{$1} = { version => $pending, pattern => qr/\.\Q$1\E\b/, where => "$file:$." };
            undef $pending;
        } elsif (defined $pending && $code =~ /\binit\s*\(([^)]*)\)/) {
            # A call of this initializer: the type's name then its argument labels, in order.
            my @labels = grep { $_ ne '_' } map { /^\s*(\w+)/ ? $1 : () } split /,/, $1;
            my $type = @types ? $types[-1][0] : 'Self';
            my $labels = join '', map { "[^;]*?\\b\Q$_\E\\s*:" } @labels;
            $symbols{"$type.init(" . join('', map { "$_:" } @labels) . ")"} =
                { version => $pending, pattern => qr/\b\Q$type\E\s*\($labels/, where => "$file:$." };
            undef $pending;
        }
        for my $char (split //, $code) {
            if ($char eq '{') { $depth++ }
            elsif ($char eq '}') { $depth--; pop @types if @types && $types[-1][1] == $depth }
        }
    }
    close $fh;
}

my $failures = 0;
for my $file (@sources) {
    open my $fh, '<', $file or die "$file: $!\n";
    # Each open brace's guaranteed iOS version (0: only the floor); `pending` waits for the brace
    # of the declaration or `if #available` that named it.
    my @scopes = (0);
    my $pending;
    $in_block_comment = 0;
    while (my $raw = <$fh>) {
        my $code = code_of($raw);
        if (defined(my $v = ios_version($code))) {
            if ($code =~ /\bguard\s+#available/) {
                $scopes[-1] = version($v) if version($v) > $scopes[-1];
            } else {
                $pending = version($v);
            }
        }
        my $guaranteed = $scopes[-1];
        $guaranteed = $pending if defined $pending && $pending > $guaranteed;
        for my $name (sort keys %symbols) {
            my $symbol = $symbols{$name};
            my $needed = version($symbol->{version});
            next if $needed <= version($floor) || $needed <= $guaranteed;
            next unless $code =~ $symbol->{pattern};
            print STDERR "$file:$.: $name needs iOS $symbol->{version} ($symbol->{where}); the floor is iOS $floor: "
              . "guard it with `if #available(iOS $symbol->{version}, *)` or mark the declaration `\@available`\n";
            $failures++;
        }
        for my $char (split //, $code) {
            if ($char eq '{') {
                my $scope = $scopes[-1];
                if (defined $pending) { $scope = $pending if $pending > $scope; undef $pending }
                push @scopes, $scope;
            } elsif ($char eq '}') {
                pop @scopes if @scopes > 1;
            }
        }
    }
    close $fh;
}
exit($failures ? 1 : 0);
