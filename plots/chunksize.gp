# chunksize.gp: median wall time against chunksize, one line per parameter group.
#
# Usage
#   gnuplot -e "datadir='results/NAME'; outbase='results/NAME/chunksize'" plots/chunksize.gp
# Inputs: datadir, outbase (writes outbase.png and outbase.svg), title (optional).
#
# Contract: reads datadir/plotdata/chunksize.dat, written by hpool_bench_render()
# (bench/render.c) from summary.tsv. Tab-separated; '#' lines are comments; one gnuplot
# index block per group (rows of summary.tsv that differ only in chunksize), blocks
# separated by two blank lines. Each block:
#   line 1   the group's key title in double quotes, e.g.
#            "hpool guided cpu_sum (best 8: 0.354 s)"
#   rows     chunksize  wall_min  wall_median  wall_max  best
#            sorted by chunksize; best = 0, 1 on the group's lowest wall_median, 2 on the
#            lowest wall_median of all groups (one row in the whole file)
# Optional: datadir/plotdata/best.dat (bench/verdict.c), a header line, then one row
#   chunksize  wall_median  resolved  "label"
# for the overall best; resolved = 1 when its lead over the runner-up is resolved
# (bench/stats.h), 0 when not, -1 when there is no runner-up.
# Drawing: log2 x axis, median line with min–max error bars, each group's best point
# circled, the overall best also labelled; with best.dat the label comes from it and the
# circle of the overall best is filled only when its lead is resolved.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

f = datadir."/plotdata/chunksize.dat"
if (!exists("title")) { title = "wall time vs chunksize" }

stats f using 1:3 nooutput
nblocks = STATS_blocks
xlo = STATS_min_x
xhi = STATS_max_x
ylo = STATS_min_y
yhi = STATS_max_y

set logscale x 2
set xrange [xlo / 1.5 : xhi * 1.5]
set xlabel "chunksize (items per call, log2)"
# Wall times that span more than a decade (hpool next to Python's pool, chunksize 1 next
# to 256) are only readable on a log axis; otherwise a linear one from 0.
if (ylo > 0 && yhi / ylo > 10) {
    set logscale y 10
    set ylabel "wall time, median (s, log)"
    set yrange [ylo / 1.5 : yhi * 1.5]
} else {
    set ylabel "wall time, median (s)"
    set yrange [0:*]
}
set format x "%g"
set title title
set key below left Left reverse samplen 2 autotitle columnheader height 3
set grid xtics ytics

best_label(cs, y) = sprintf("best: chunksize %g, %.3g s", cs, y)
bf = datadir."/plotdata/best.dat"
has_best = int(system("test -s '".bf."' && echo 1 || echo 0"))
px_h = 560 + ((nblocks + 1) / 2) * 18

do for [fmt in "png svg"] {
    eval hp_term(fmt, 1100, px_h)
    set output outbase.".".fmt
    plot \
      for [i = 0:nblocks-1] f index i using 1:3:2:4 with yerrorlines lt hp_lt(i) lw 2 ps 0.8, \
      for [i = 0:nblocks-1] f index i using 1:($5 > 0 ? $3 : NaN) \
          with points pt 6 ps 2.6 lw 2 lc rgb "#222222" notitle, \
      for [i = 0:nblocks-1] f index i using 1:($5 > 1 && !has_best ? $3 : NaN):(best_label($1, $3)) \
          with labels offset 0, -2 font hp_font.",9" tc rgb "#222222" notitle, \
      for [j = 1:has_best] bf using 1:($3 > 0 ? $2 : NaN) \
          with points pt 7 ps 2.0 lc rgb "#222222" notitle, \
      for [j = 1:has_best] bf using 1:2:(stringcolumn(4)) \
          with labels offset 0, -2 font hp_font.",9" tc rgb "#222222" notitle
    unset output
}
