# scaling.gp: speedup (top panel) and parallel efficiency (bottom panel) against workers.
#
# Usage
#   gnuplot -e "datadir='results/NAME'; outbase='results/NAME/scaling'" plots/scaling.gp
# Inputs: datadir, outbase (writes outbase.png and outbase.svg), title (optional).
#
# Contract: reads datadir/plotdata/scaling.dat, written by hpool_bench_render()
# (bench/render.c) from summary.tsv. Tab-separated; '#' lines are comments; one gnuplot
# index block per group (rows of summary.tsv that differ only in workers), blocks
# separated by two blank lines. Each block:
#   line 1   the group's key title in double quotes
#   rows     workers  speedup  efficiency  ideal  wall_median
#            sorted by workers. speedup is speedup_median of summary.tsv, or, when the
#            serial time was not measured (speedup_median 0), wall_median at the group's
#            smallest worker count / wall_median (the title then says "relative");
#            ideal is the speedup of perfect scaling in the same terms (workers*threads,
#            or the ratio of cores to the smallest count's cores); efficiency =
#            speedup / ideal.
# Drawing: ideal speedup dashed grey (one line per group; they coincide when the groups
# share a thread count), efficiency with a dashed line at 1.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

f = datadir."/plotdata/scaling.dat"
if (!exists("title")) { title = "scaling with worker count" }

stats f using 1:4 nooutput
nblocks = STATS_blocks
xlo = STATS_min_x
xhi = STATS_max_x
ymax = STATS_max_y
stats f using 2 nooutput
ymax = hp_max(ymax, STATS_max)
stats f using 3 nooutput
effmax = hp_max(1.15, STATS_max * 1.08)

set xrange [xlo - 0.5 : xhi + 0.5]
set xtics 1
if (xhi - xlo > 16) { set xtics autofreq }
# Key inside the top-left corner (small worker counts have small speedups, so it is
# empty) and fixed margins, so both panels share one x axis position.
key_cmd = "set key inside left top vertical Left reverse samplen 2 autotitle columnheader box opaque"
set lmargin 11
set rmargin 4
set grid xtics ytics
px_h = 800 + (nblocks > 12 ? (nblocks - 12) * 18 : 0)

do for [fmt in "png svg"] {
    eval hp_term(fmt, 1100, px_h)
    set output outbase.".".fmt
    set multiplot layout 2, 1 title title
    eval key_cmd
    set ylabel "speedup"
    set yrange [0 : ymax * 1.1]
    unset xlabel
    plot \
      for [i = 0:nblocks-1] f index i using 1:4 with lines dt 2 lw 1.5 lc rgb "#888888" \
          title (i == 0 ? "ideal" : ""), \
      for [i = 0:nblocks-1] f index i using 1:2 with linespoints lt hp_lt(i) lw 2
    set ylabel "efficiency (speedup / ideal)"
    set xlabel "workers (ranks or processes)"
    set yrange [0 : effmax]
    set key noautotitle
    unset key
    plot \
      1 with lines dt 2 lw 1.5 lc rgb "#888888" notitle, \
      for [i = 0:nblocks-1] f index i using 1:3 with linespoints lt hp_lt(i) lw 2 notitle
    unset multiplot
    unset output
}
