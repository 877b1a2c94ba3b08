// Landmarks and the country they stand in.
// Source: UNESCO World Heritage List (whc.unesco.org/en/list, state party of each property)
// for the heritage sites, and the landmarks' own official sites for the rest, as of 2025.
// Landmarks on a border (Niagara Falls, the Matterhorn, ...) are left out.
#include "data/facts/facts.h"

namespace rs::data::facts {

const std::vector<Landmark>& landmarks() {
  static const std::vector<Landmark> table = {
      {"the Eiffel Tower", "France"},
      {"the Louvre", "France"},
      {"the Colosseum", "Italy"},
      {"the Leaning Tower of Pisa", "Italy"},
      {"the Sagrada Família", "Spain"},
      {"the Alhambra", "Spain"},
      {"the Acropolis of Athens", "Greece"},
      {"the Taj Mahal", "India"},
      {"the Great Wall", "China"},
      {"the Forbidden City", "China"},
      {"Mount Fuji", "Japan"},
      {"the Statue of Liberty", "United States"},
      {"the Golden Gate Bridge", "United States"},
      {"the Grand Canyon", "United States"},
      {"Machu Picchu", "Peru"},
      {"Christ the Redeemer", "Brazil"},
      {"the Sydney Opera House", "Australia"},
      {"Big Ben", "United Kingdom"},
      {"Stonehenge", "United Kingdom"},
      {"Neuschwanstein Castle", "Germany"},
      {"the Brandenburg Gate", "Germany"},
      {"the Pyramids of Giza", "Egypt"},
      {"the Kremlin", "Russia"},
      {"Chichen Itza", "Mexico"},
      {"the CN Tower", "Canada"},
      {"Angkor Wat", "Cambodia"},
      {"the Petronas Towers", "Malaysia"},
      {"Hagia Sophia", "Turkey"},
  };
  return table;
}

}  // namespace rs::data::facts
