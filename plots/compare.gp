# compare.gp: ratio of median wall times per parameter combination, run against run.
#
# Usage (hpool-bench compare runs it)
#   gnuplot -e "datadir='results/compare'; outbase='results/compare/compare'" plots/compare.gp
# Inputs: datadir, outbase (writes outbase.png and outbase.svg).
#
# Contract: reads datadir/plotdata/compare.dat, written by `hpool-bench compare`
# (bench/compare.c). Tab-separated; '#' lines are comments; one gnuplot index block per
# later run (B, C, ... against the baseline A), blocks separated by two blank lines. Each
# block:
#   line 1   the block's key title in double quotes, e.g. "B / A"
#   rows     index  ratio  ci_lo  ci_hi  resolved  "combination"
#            index = the combination's position (0-based, the same in every block);
#            combination = the parameters that vary across the baseline's combinations
#            ratio = median of the run / median of A with its 95% bootstrap interval;
#            resolved = 1 when the difference is resolved (stats.h), else 0
# Drawing: one point per combination with its interval as error bars, a line at 1 (no
# change); a filled marker means resolved, an open one not resolved. Blocks are offset a
# little along x so intervals of different runs do not hide each other.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

f = datadir."/plotdata/compare.dat"
# one column at a time: a two-column stats fits a line and warns on two points
stats f using 1 nooutput
nblocks = STATS_blocks
ncombo = int(STATS_max) + 1
stats f using 3 nooutput
ylo = STATS_min
stats f using 4 nooutput
yhi = STATS_max

set title "run against run: ratio of median wall time (95% intervals; filled = resolved)"
set ylabel "median wall time ratio (>1: slower than A)"
set xlabel ""
set xrange [-0.6 : ncombo - 0.4]
pad = (yhi - ylo) * 0.1 + 0.02
set yrange [hp_min(ylo, 1) - pad : hp_max(yhi, 1) + pad]
set xtics rotate by 30 right font hp_font.",8"
set grid ytics
set key top left
set bmargin 9
set rmargin 4
set lmargin 14
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#444444"
shift(i) = nblocks > 1 ? (i - (nblocks - 1) / 2.0) * 0.15 : 0

px_w = 300 + ncombo * 90 < 1400 ? (300 + ncombo * 90 > 800 ? 300 + ncombo * 90 : 800) : 1400
do for [fmt in "png svg"] {
    eval hp_term(fmt, px_w, 620)
    set output outbase.".".fmt
    plot \
      for [i = 0:nblocks-1] f index i using ($1 + shift(i)):2:3:4:xtic(6) \
          with yerrorbars lt hp_lt(i) pt 6 ps 1.6 lw 2 title columnheader(1), \
      for [i = 0:nblocks-1] f index i using ($1 + shift(i)):($5 > 0 ? $2 : NaN) \
          with points lt hp_lt(i) pt 7 ps 1.6 notitle
    unset output
}
