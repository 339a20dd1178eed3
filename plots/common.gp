# common.gp: settings shared by every hpool plot script; loaded by them, not run alone.
#
# Defines
#   hp_term(fmt, w, h)  a "set terminal ..." command for fmt "png" (pngcairo) or "svg";
#                       each script runs   do for [fmt in "png svg"] { eval hp_term(...);
#                       set output outbase.".".fmt; plot ...; unset output }
#                       so both files come from the same commands (replot can't redo a
#                       multiplot).
#   linetypes 1..10     a colour-blind-safe cycle (Okabe-Ito + two greys/browns);
#                       linetype 11 is 1 again, so "lc variable" with any id cycles.
#   hp_lt(i)            linetype for a 0-based id (chunk, group): 1..10.
#   hp_min/hp_max       helpers.
# Text is "noenhanced" everywhere: workload names like cpu_sum must not turn into
# subscripts.

if (!exists("outbase")) outbase = "plot"
if (!exists("datadir")) datadir = "."

hp_font = "DejaVu Sans"
hp_term(fmt, w, h) = (fmt eq "png") \
    ? sprintf("set terminal pngcairo size %d,%d noenhanced font '%s,10' background rgb 'white'", w, h, hp_font) \
    : sprintf("set terminal svg size %d,%d noenhanced font '%s,10' background rgb 'white'", w, h, hp_font)

hp_min(a, b) = (a < b) ? a : b
hp_max(a, b) = (a > b) ? a : b
hp_lt(i) = int(i) % 10 + 1

set linetype 1  lc rgb "#0072B2" lw 2 pt 7 ps 1.0
set linetype 2  lc rgb "#E69F00" lw 2 pt 5 ps 1.0
set linetype 3  lc rgb "#009E73" lw 2 pt 9 ps 1.1
set linetype 4  lc rgb "#CC79A7" lw 2 pt 11 ps 1.1
set linetype 5  lc rgb "#56B4E9" lw 2 pt 13 ps 1.1
set linetype 6  lc rgb "#D55E00" lw 2 pt 15 ps 1.0
set linetype 7  lc rgb "#F0E442" lw 2 pt 7 ps 1.0
set linetype 8  lc rgb "#8C6D31" lw 2 pt 5 ps 1.0
set linetype 9  lc rgb "#7F7F7F" lw 2 pt 9 ps 1.1
set linetype 10 lc rgb "#332288" lw 2 pt 11 ps 1.1
set linetype cycle 10

set datafile separator "\t"
set datafile commentschars "#"
set border lw 1 lc rgb "#444444"
set grid lc rgb "#dddddd" lw 1 dt 1
set key noenhanced
