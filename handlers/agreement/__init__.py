"""The agreement's life: its recorded versions, the words for a change, the simulation of a draft."""
