#!/usr/bin/perl
# Doxygen input filter for Markdown pages (docs/Doxyfile: FILTER_PATTERNS = *.md=...).
#
# The chapter READMEs are written for GitHub, which takes TeX between $$ ... $$ (display) and
# $ ... $ (inline). Doxygen wants \f[ ... \f] and \f$ ... \f$. This filter rewrites the first
# into the second so that one README serves both, and leaves everything else byte for byte:
# fenced code blocks (``` or ~~~), indented code blocks and inline code spans are copied
# untouched, so `$B/ch02_openmp` in a shell example stays as it is. The line count does not
# change, so Doxygen's warnings still name the README's own line numbers.
#
# Usage: perl docs/md_filter.pl FILE   (writes the filtered text to stdout)
use strict;
use warnings;

local $/;                      # slurp: display math may span lines
my $text = <>;
$text = '' unless defined $text;

my @out;
my $fence = '';                # the opening fence while inside a fenced code block
my $prose = '';                # prose collected since the last code block
my $prev_blank = 1;            # an indented code block must follow a blank line

sub flush_prose {
    push @out, convert_math($prose);
    $prose = '';
}

for my $line (split /(?<=\n)/, $text) {
    if ($fence ne '') {        # inside a fenced block: copy until the matching fence
        push @out, $line;
        $fence = '' if $line =~ /^\s{0,3}\Q$fence\E\s*$/;
        next;
    }
    if ($line =~ /^\s{0,3}(`{3,}|~{3,})/) {
        flush_prose();
        $fence = $1;
        push @out, $line;
        next;
    }
    if ($prev_blank && $line =~ /^(?: {4}|\t)\S/ && $prose !~ /\$\$(?:(?!\$\$).)*\z/s) {
        flush_prose();         # an indented code block (not a continuation of open $$ math)
        push @out, $line;
        next;
    }
    $prev_blank = ($line =~ /^\s*$/);
    # A folded answer (<details><summary>...</summary> alone on a line, </details> alone on a
    # line): GitHub wants a blank line after the summary so that the answer is Markdown, and
    # Doxygen 1.9.4 then closes the <details> early, leaving the summary over an empty fold and
    # the answer in a second one without it. Passed through \htmlonly, the tags reach the HTML
    # as written, around the answer's paragraphs.
    $line =~ s{^(\s*)(<details><summary>.*</summary>)\s*$}{$1\\htmlonly$2\\endhtmlonly\n};
    $line =~ s{^(\s*)(</details>)\s*$}{$1\\htmlonly$2\\endhtmlonly\n};
    $prose .= $line;
}
flush_prose();
print @out;

# Rewrites $$...$$ and $...$ in prose, keeping inline code spans (a run of backticks up to the
# next run of the same length) as they are.
sub convert_math {
    my ($s) = @_;
    my @segments = split /((`+).*?(?<!`)\2(?!`))/s, $s;  # text, span, its backticks, text, ...
    my $final = '';
    for (my $k = 0; $k < @segments; $k++) {
        my $seg = $segments[$k];
        if ($k % 3 == 1) { $final .= $seg; next; }       # a code span, kept as is
        next if $k % 3 == 2;                             # the captured backtick run itself
        $seg =~ s/(?<!\\)\$\$(.+?)(?<!\\)\$\$/\\f[$1\\f]/gs;
        # GitHub's inline rule: $ not followed by a space, closing $ not preceded by a space
        # and not followed by a digit; no line break inside.
        $seg =~ s/(?<![\\\$\w])\$(?=[^\s\$])([^\$\n]*?[^\s\\\$])\$(?![\d\$\w])/\\f\$$1\\f\$/g;
        $final .= $seg;
    }
    return $final;
}
